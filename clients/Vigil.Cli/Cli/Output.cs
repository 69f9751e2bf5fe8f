using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;

namespace Vigil.Cli.Cli;

/// <summary>
/// What the client prints: lines for a person on stdout, or with --json one JSON document per command (for the
/// demo, one JSON object per step, one per line) and nothing else on stdout.
/// </summary>
internal sealed class Output(bool json, TextWriter? writer = null)
{
    private static readonly JsonFormatter ProtoJson = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(false));
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = false };
    private readonly TextWriter _out = writer ?? Console.Out;

    public bool Json { get; } = json;

    /// <summary>A progress line for a person (nothing in --json mode).</summary>
    public void Line(string text = "")
    {
        if (!Json) _out.WriteLine(text);
    }

    /// <summary>A success line: "✔ text".</summary>
    public void Ok(string text) => Line("  ✔ " + text);

    /// <summary>An expected refusal or a failure shown to a person: "✘ text".</summary>
    public void No(string text) => Line("  ✘ " + text);

    /// <summary>A step title.</summary>
    public void Step(string text) => Line("▶ " + text);

    /// <summary>A JSON document (only in --json mode).</summary>
    public void Emit(JsonNode node)
    {
        if (Json) _out.WriteLine(node.ToJsonString(Indented));
    }

    /// <summary>A protobuf message as JSON (only in --json mode).</summary>
    public void Emit(IMessage message)
    {
        if (Json) _out.WriteLine(ProtoJson.Format(message));
    }

    /// <summary>A protobuf message as a JSON node.</summary>
    public static JsonNode ToNode(IMessage message) => JsonNode.Parse(ProtoJson.Format(message))!;
}
