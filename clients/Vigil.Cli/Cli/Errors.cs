using System.Text.Json.Nodes;
using Google.Rpc;
using Grpc.Core;

namespace Vigil.Cli.Cli;

/// <summary>Turns a gRPC error into something a person (or a script) can act on.</summary>
internal static class Errors
{
    /// <summary>The status, the message and each field or precondition violation, as lines.</summary>
    public static IReadOnlyList<string> Describe(RpcException ex)
    {
        var lines = new List<string> { $"{ex.StatusCode}: {ex.Status.Detail}" };
        var status = ex.GetRpcStatus();
        if (status is null) return lines;
        if (status.GetDetail<BadRequest>() is { } bad)
        {
            // The status message often is the first violation already: show each only once.
            lines.AddRange(bad.FieldViolations.Select(v => $"{v.Field}: {v.Description}").Where(l => !lines[0].EndsWith(l, StringComparison.Ordinal)));
        }
        if (status.GetDetail<PreconditionFailure>() is { } pre)
        {
            lines.AddRange(pre.Violations.Select(v => $"{v.Type} {v.Subject}: {v.Description}".Trim()));
        }
        return lines;
    }

    public static JsonObject ToJson(RpcException ex)
    {
        var lines = Describe(ex);
        return new JsonObject
        {
            ["error"] = ex.StatusCode.ToString(),
            ["message"] = ex.Status.Detail,
            ["details"] = new JsonArray(lines.Skip(1).Select(l => (JsonNode)JsonValue.Create(l)!).ToArray()),
        };
    }
}
