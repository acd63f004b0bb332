using Cluster.Testing.Actors;

namespace Cluster.Tests.Actors;

/// <summary>A test class on a fresh deterministic actor system per test (xunit makes one instance per test).</summary>
public abstract class ActorTest : IAsyncLifetime
{
    protected ActorTestKit Kit { get; } = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await Kit.DisposeAsync();
}
