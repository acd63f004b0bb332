namespace Legacy.Actors.Membership;

/// <summary>Published on the event stream whenever the member list changes; <paramref name="Members"/> is sorted.</summary>
public sealed record MembersChanged(IReadOnlyList<Address> Members, IReadOnlyList<Address> Joined, IReadOnlyList<Address> Removed);
