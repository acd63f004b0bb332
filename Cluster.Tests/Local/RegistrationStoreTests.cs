using System.Text.Json.Nodes;
using Cluster.Agent.Local;

namespace Cluster.Tests.Local;

/// <summary>API registrations kept in the data directory across restarts.</summary>
public sealed class RegistrationStoreTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"cluster-registrations-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public void Saved_bodies_load_back_a_second_save_replaces_the_first_and_a_removal_forgets_it()
    {
        var store = new RegistrationStore(_directory);
        store.Save(RegistrationStore.Services, "web/1", new JsonObject { ["Name"] = "web", ["Port"] = 80 });
        store.Save(RegistrationStore.Services, "web/1", new JsonObject { ["Name"] = "web", ["Port"] = 81 });
        store.Save(RegistrationStore.Services, "db", new JsonObject { ["Name"] = "db" });
        store.Save(RegistrationStore.Checks, "ping", new JsonObject { ["Name"] = "ping", ["TTL"] = "10s" });

        var reopened = new RegistrationStore(_directory);
        var (services, unreadable) = reopened.Load(RegistrationStore.Services);
        Assert.Empty(unreadable);
        Assert.Equal([80 + 1], services.Where(s => (string?)s["Name"] == "web").Select(s => (int)s["Port"]!));
        Assert.Equal(2, services.Count);
        Assert.Single(reopened.Load(RegistrationStore.Checks).Bodies);

        reopened.Remove(RegistrationStore.Services, "web/1");
        reopened.Remove(RegistrationStore.Services, "never-saved");
        Assert.Equal("db", (string?)Assert.Single(reopened.Load(RegistrationStore.Services).Bodies)["Name"]);
    }

    [Fact]
    public void A_file_that_cannot_be_read_is_named_and_the_rest_still_load()
    {
        var store = new RegistrationStore(_directory);
        store.Save(RegistrationStore.Services, "web", new JsonObject { ["Name"] = "web" });
        File.WriteAllText(Path.Combine(_directory, RegistrationStore.Services, "broken.json"), "{\"ID\": \"x\", \"Body\": [");
        var (bodies, unreadable) = store.Load(RegistrationStore.Services);
        Assert.Single(bodies);
        Assert.EndsWith("broken.json", Assert.Single(unreadable), StringComparison.Ordinal);
    }
}
