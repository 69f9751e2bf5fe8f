using System.Diagnostics;
using System.Text;
using YamlDotNet.RepresentationModel;

namespace Vigil.Deploy.Tests;

/// <summary>One environment variable of a rendered container.</summary>
/// <param name="Value">The value: inline, from a ConfigMap, or from a Secret of the render (decoded); null when the Secret is not in the render.</param>
/// <param name="FromSecret">Whether it comes from a Secret.</param>
public sealed record RenderedVariable(string? Value, bool FromSecret);

/// <summary>A Kustomize overlay rendered with `kubectl kustomize`, read as far as the tests need.</summary>
public sealed class KubernetesRender
{
    private readonly List<YamlMappingNode> _objects;

    private KubernetesRender(List<YamlMappingNode> objects) => _objects = objects;

    public static IEnumerable<object[]> Overlays =>
        Directory.EnumerateDirectories(Repository.Path("deploy", "k8s", "overlays"))
            .Where(d => File.Exists(Path.Combine(d, "kustomization.yaml")))
            .Select(d => new object[] { Path.GetFileName(d) });

    public static KubernetesRender Render(string overlay)
    {
        var psi = new ProcessStartInfo("kubectl", ["kustomize", Repository.Path("deploy", "k8s", "overlays", overlay)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"kubectl kustomize {overlay} failed: {stderr.Result}");
        var yaml = new YamlStream();
        yaml.Load(new StringReader(stdout.Result));
        return new KubernetesRender(yaml.Documents.Select(d => d.RootNode).OfType<YamlMappingNode>().ToList());
    }

    public YamlMappingNode? Find(string kind, string name) =>
        _objects.FirstOrDefault(o => Scalar(o, "kind") == kind && Scalar(Map(o, "metadata"), "name") == name);

    /// <summary>The environment of a Deployment's first container, with envFrom ConfigMaps expanded.</summary>
    public Dictionary<string, RenderedVariable> Environment(string deployment)
    {
        var container = FirstContainer(deployment);
        var env = new Dictionary<string, RenderedVariable>(StringComparer.Ordinal);
        foreach (var from in Seq(container, "envFrom")?.Children.OfType<YamlMappingNode>() ?? [])
        {
            if (Map(from, "configMapRef") is { } cmRef)
            {
                var cm = Find("ConfigMap", Scalar(cmRef, "name")!) ?? throw new InvalidOperationException($"ConfigMap {Scalar(cmRef, "name")} is not in the render");
                foreach (var (k, v) in Map(cm, "data")?.Children.AsEnumerable() ?? [])
                    env[((YamlScalarNode)k).Value!] = new RenderedVariable(((YamlScalarNode)v).Value, false);
            }
        }
        foreach (var e in Seq(container, "env")?.Children.OfType<YamlMappingNode>() ?? [])
        {
            var name = Scalar(e, "name")!;
            if (Map(Map(e, "valueFrom"), "secretKeyRef") is { } secretRef)
            {
                var secret = Find("Secret", Scalar(secretRef, "name")!);
                var data = Scalar(Map(secret, "data"), Scalar(secretRef, "key")!);
                env[name] = new RenderedVariable(data is null ? null : Encoding.UTF8.GetString(Convert.FromBase64String(string.Concat(data.Where(c => !char.IsWhiteSpace(c))))), true);
            }
            else if (Map(Map(e, "valueFrom"), "configMapKeyRef") is { } cmKeyRef)
            {
                var cm = Find("ConfigMap", Scalar(cmKeyRef, "name")!);
                env[name] = new RenderedVariable(Scalar(Map(cm, "data"), Scalar(cmKeyRef, "key")!), false);
            }
            else
            {
                env[name] = new RenderedVariable(Scalar(e, "value"), false);
            }
        }
        return env;
    }

    /// <summary>A Deployment's first container's <c>resources.limits.&lt;resource&gt;</c> as written ("1Gi", "2"), or null.</summary>
    public string? Limit(string deployment, string resource)
    {
        return Scalar(Map(Map(FirstContainer(deployment), "resources"), "limits"), resource);
    }

    private YamlMappingNode FirstContainer(string deployment)
    {
        var d = Find("Deployment", deployment) ?? throw new InvalidOperationException($"no Deployment {deployment}");
        return (YamlMappingNode)Seq(Map(Map(Map(d, "spec"), "template"), "spec"), "containers")!.Children[0];
    }

    /// <summary>A Kubernetes memory quantity in bytes ("512Mi", "1Gi", "1G", "800000000").</summary>
    public static long Bytes(string quantity)
    {
        (string Suffix, long Factor)[] units = [("Ki", 1L << 10), ("Mi", 1L << 20), ("Gi", 1L << 30), ("Ti", 1L << 40), ("k", 1_000), ("M", 1_000_000), ("G", 1_000_000_000)];
        foreach (var (suffix, factor) in units)
            if (quantity.EndsWith(suffix, StringComparison.Ordinal))
                return long.Parse(quantity[..^suffix.Length], System.Globalization.CultureInfo.InvariantCulture) * factor;
        return long.Parse(quantity, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static YamlMappingNode? Map(YamlMappingNode? node, string key) =>
        node is not null && node.Children.TryGetValue(new YamlScalarNode(key), out var v) ? v as YamlMappingNode : null;

    private static YamlSequenceNode? Seq(YamlMappingNode? node, string key) =>
        node is not null && node.Children.TryGetValue(new YamlScalarNode(key), out var v) ? v as YamlSequenceNode : null;

    private static string? Scalar(YamlMappingNode? node, string key) =>
        node is not null && node.Children.TryGetValue(new YamlScalarNode(key), out var v) ? (v as YamlScalarNode)?.Value : null;
}
