using System.Net;
using System.Text;

namespace Vigil.Testing;

/// <summary>
/// Host names that answer with loopback addresses for the processes started through it, the way a Kubernetes
/// headless Service's name answers with its ready pods: a hosts file of its own (this machine's /etc/hosts, then
/// one line per name and address), bind-mounted over /etc/hosts in a private mount namespace (<c>unshare
/// --mount</c>) in which the process runs (<see cref="Command"/>). The process resolves through the system resolver
/// as it would anywhere (getaddrinfo reads /etc/hosts at every lookup), so a name's answer follows the file with
/// no restart. Nothing changes for any other process on the machine. Needs root, as the test command runs.
/// <para>
/// The file only ever grows, so a reader never sees a partial answer: <see cref="Add"/> appends a line and
/// <see cref="Remove"/> turns its first character into '#' in place (one byte). The bind mount holds the file's
/// inode, which is why it is never replaced.
/// </para>
/// </summary>
public sealed class LoopbackHosts : IDisposable
{
    private readonly Lock _lock = new();
    private readonly List<(string Name, IPAddress Address, long Offset)> _lines = [];

    public LoopbackHosts()
    {
        FilePath = Path.Combine(Path.GetTempPath(), $"vigil-hosts-{Guid.NewGuid():N}");
        File.WriteAllText(FilePath, File.ReadAllText("/etc/hosts").TrimEnd('\n') + "\n# vigil test names\n");
    }

    /// <summary>The hosts file the processes see as /etc/hosts.</summary>
    public string FilePath { get; }

    /// <summary>The addresses <paramref name="name"/> answers with now, in the order they were added.</summary>
    public IReadOnlyList<IPAddress> Addresses(string name)
    {
        lock (_lock) return [.. _lines.Where(l => l.Name == name).Select(l => l.Address)];
    }

    /// <summary><paramref name="name"/> answers with <paramref name="address"/> too (a pod became ready).</summary>
    public void Add(string name, IPAddress address)
    {
        lock (_lock)
        {
            if (_lines.Any(l => l.Name == name && l.Address.Equals(address))) return;
            using var file = new FileStream(FilePath, FileMode.Append, FileAccess.Write);
            var offset = file.Position;
            file.Write(Encoding.ASCII.GetBytes($"{address} {name}\n"));
            _lines.Add((name, address, offset));
        }
    }

    /// <summary><paramref name="name"/> no longer answers with <paramref name="address"/> (a pod is terminating).</summary>
    public void Remove(string name, IPAddress address)
    {
        lock (_lock)
        {
            var index = _lines.FindIndex(l => l.Name == name && l.Address.Equals(address));
            if (index < 0) return;
            using var file = new FileStream(FilePath, FileMode.Open, FileAccess.Write);
            file.Position = _lines[index].Offset;
            file.WriteByte((byte)'#');
            _lines.RemoveAt(index);
        }
    }

    /// <summary>
    /// The command that runs <paramref name="fileName"/> with <paramref name="arguments"/> seeing this file as
    /// /etc/hosts: <c>unshare --mount --propagation private -- sh -c 'mount --bind FILE /etc/hosts &amp;&amp; exec
    /// "$@"'</c>. The shell execs the program, so the process id started is the program's.
    /// </summary>
    public (string FileName, IReadOnlyList<string> Arguments) Command(string fileName, IEnumerable<string> arguments) =>
        ("unshare", ["--mount", "--propagation", "private", "--", "sh", "-c", "mount --bind \"$0\" /etc/hosts && exec \"$@\"", FilePath, fileName, .. arguments]);

    /// <inheritdoc />
    public void Dispose() => File.Delete(FilePath);
}
