using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using MassTransit;
using MassTransit.Serialization;
using Vigil.Contracts.Events;

namespace Vigil.Contracts.Tests;

/// <summary>
/// The events that cross RabbitMQ are contract too: their exchange, message URN and JSON shape are held
/// against events.contract.json. Changing a name or a type there is a breaking change for every consumer;
/// adding a property is fine (update the file in the same change).
/// </summary>
public sealed class EventContractTests
{
    private static readonly Type[] Events =
    [
        typeof(SessionSubmitted), typeof(SessionExpired), typeof(BoardDecisionRecorded), typeof(LearnerErasureRequested), typeof(LearnerErasureCompleted),
    ];

    private static JsonObject Expected() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "events.contract.json")))!.AsObject();

    private static string JsonType(Type t)
    {
        t = Nullable.GetUnderlyingType(t) ?? t;
        if (t.IsEnum) return "enum:" + string.Join("|", Enum.GetValues(t).Cast<object>().Select(v => $"{v}={(int)v}"));
        return t == typeof(string) ? "string"
            : t == typeof(Guid) ? "uuid"
            : t == typeof(DateTimeOffset) ? "timestamp"
            : t == typeof(double) ? "number"
            : t == typeof(int) || t == typeof(long) ? "integer"
            : t == typeof(bool) ? "boolean"
            : throw new InvalidOperationException($"Type {t} is not allowed in an event: keep events to plain values.");
    }

    [Fact]
    public void Every_event_is_in_the_contract_file()
    {
        Assert.Equal(Events.Select(e => e.Name).Order(), Expected().Select(p => p.Key).Order());
    }

    [Theory]
    [InlineData(typeof(SessionSubmitted))]
    [InlineData(typeof(SessionExpired))]
    [InlineData(typeof(BoardDecisionRecorded))]
    [InlineData(typeof(LearnerErasureRequested))]
    [InlineData(typeof(LearnerErasureCompleted))]
    public void Event_shape_matches_the_contract(Type type)
    {
        var expected = Expected()[type.Name]!.AsObject();
        Assert.Equal(expected["exchange"]!.GetValue<string>(), type.GetCustomAttribute<EntityNameAttribute>()!.EntityName);
        Assert.Equal(expected["urn"]!.GetValue<string>(), type.GetCustomAttribute<MessageUrnAttribute>()!.Urn.ToString());
        var props = expected["properties"]!.AsObject().ToDictionary(p => p.Key, p => p.Value!.GetValue<string>());
        var actual = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .ToDictionary(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name), p => JsonType(p.PropertyType));
        Assert.Equal(props.OrderBy(p => p.Key), actual.OrderBy(p => p.Key));
    }

    [Fact]
    public void Events_round_trip_through_the_bus_serializer_with_enums_as_their_pinned_numbers()
    {
        var e = new BoardDecisionRecorded
        {
            EventId = Guid.NewGuid(), SessionId = "s1", ExamId = "e1", CourseId = "c1", LearnerId = "l1", Version = 2,
            Outcome = DecisionOutcome.Withdrawn, ReasonCode = "REFUSAL_REASON_HEADPHONES", ReasonText = "Headphones",
            DecidedBy = "b1", DecidedAt = DateTimeOffset.Parse("2026-11-28T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture),
        };
        var json = JsonSerializer.Serialize(e, SystemTextJsonMessageSerializer.Options);
        var node = JsonNode.Parse(json)!.AsObject();
        // MassTransit writes enums as numbers: the numbers in events.contract.json are the wire values.
        Assert.Equal(3, node["outcome"]!.GetValue<int>());
        Assert.Equal(2, node["version"]!.GetValue<long>());
        var back = JsonSerializer.Deserialize<BoardDecisionRecorded>(json, SystemTextJsonMessageSerializer.Options);
        Assert.Equal(e, back);
    }

    [Fact]
    public void Topology_binds_each_consumer_queue_to_its_event_exchange()
    {
        foreach (var (queue, exchange, message) in EventTopology.ConsumerQueues)
        {
            Assert.Equal(exchange, message.GetCustomAttribute<EntityNameAttribute>()!.EntityName);
            Assert.Matches("^[a-z]+(-[a-z]+)+$", queue);
        }
        Assert.Equal(Events.Length, EventTopology.ConsumerQueues.Select(q => q.Message).Distinct().Count());
    }

    [Fact]
    public void An_erasure_request_reaches_every_service_that_holds_learner_data_and_only_its_owner_hears_back()
    {
        var requested = EventTopology.ConsumerQueues.Where(q => q.Message == typeof(LearnerErasureRequested)).Select(q => q.Queue.Split('-')[0]).Order();
        Assert.Equal(ErasureServices.All.Order(), requested);
        var completed = EventTopology.ConsumerQueues.Where(q => q.Message == typeof(LearnerErasureCompleted)).Select(q => q.Queue).ToList();
        Assert.Equal([EventTopology.SessionLearnerErasureCompletedQueue], completed);
    }
}
