using System.Reflection;
using System.Xml.Linq;
using NetArchTest.Rules;

namespace Kiln.Architecture.Tests;

/// <summary>
/// The dependency directions of docs/architecture.md, checked on the built assemblies. Each rule
/// first requires that it selects some types, so a renamed namespace cannot make it pass vacuously.
/// </summary>
public class DependencyRules
{
    private static readonly Assembly Server = typeof(Kiln.Server.Hosting.ServerHost).Assembly;
    private static readonly Assembly Engine = typeof(Kiln.Engine.Models.ILanguageModel).Assembly;
    private static readonly Assembly Templates = typeof(Kiln.Templates.ChatTemplate).Assembly;
    private static readonly Assembly Core = typeof(Kiln.Core.Time.IClock).Assembly;

    private const string Gateway = "Kiln.Server.Gateway";
    private const string ControlPlane = "Kiln.Server.ControlPlane";
    private const string Hosting = "Kiln.Server.Hosting";
    private const string Commands = "Kiln.Server.Commands";
    private const string Replica = "Kiln.Server.Replica";

    [Fact]
    public void GatewayDoesNotDependOnTheControlPlane() =>
        Holds(Types.InAssembly(Server).That().ResideInNamespace(Gateway),
            s => s.ShouldNot().HaveDependencyOnAny(ControlPlane, Hosting, Commands));

    [Fact]
    public void ControlPlaneDoesNotDependOnTheCompositionRoot() =>
        Holds(Types.InAssembly(Server).That().ResideInNamespace(ControlPlane),
            s => s.ShouldNot().HaveDependencyOnAny(Hosting, Commands));

    [Theory]
    [InlineData("Kiln.Server.Auth")]
    [InlineData("Kiln.Server.Signals")]
    public void SharedPartsDependOnNeitherHalf(string ns) =>
        Holds(Types.InAssembly(Server).That().ResideInNamespace(ns),
            s => s.ShouldNot().HaveDependencyOnAny(Gateway, ControlPlane, Hosting, Commands, Replica));

    [Fact]
    public void ReplicaHostKnowsNothingOfTheServer() =>
        Holds(Types.InAssembly(Server).That().ResideInNamespace(Replica),
            s => s.ShouldNot().HaveDependencyOnAny(Gateway, ControlPlane, Hosting, "Kiln.Server.Auth", "Kiln.Server.Signals"));

    /// <summary>
    /// The engine and the template interpreter use the BCL alone: they reference no other assembly
    /// (decisive: a type cannot be used without its assembly), and no type names a Kiln part or ASP.NET.
    /// </summary>
    [Theory]
    [InlineData("Kiln.Engine")]
    [InlineData("Kiln.Templates")]
    public void EngineAndTemplatesUseOnlyTheBcl(string name)
    {
        var assembly = name == "Kiln.Engine" ? Engine : Templates;
        Assert.Empty(NonBclReferences(assembly));
        string[] others = ["Kiln.Core", "Kiln.Engine", "Kiln.Templates", "Kiln.Store", "Kiln.Runtime", "Kiln.Server", "Kiln.Bench", "Kiln.Cli"];
        Holds(Types.InAssembly(assembly).That().ResideInNamespace(name),
            s => s.ShouldNot().HaveDependencyOnAny([.. others.Where(o => o != name), "Microsoft.AspNetCore", "Microsoft.Extensions"]));
    }

    [Fact]
    public void CoreDoesNoIo()
    {
        Assert.Empty(NonBclReferences(Core));
        Holds(Types.InAssembly(Core).That().ResideInNamespace("Kiln.Core"),
            s => s.ShouldNot().HaveDependencyOnAny(
                "System.IO", "System.Net", "System.Diagnostics.Process", "System.Console", "System.Environment",
                "Microsoft.AspNetCore", "Microsoft.Extensions", "Microsoft.Data", "SQLitePCL"));
    }

    /// <summary>No shipped assembly references a test assembly, test support or a test framework.</summary>
    [Fact]
    public void SourceDoesNotDependOnTests()
    {
        var sources = SourceAssemblies();
        Assert.Contains(sources, a => a == Server);
        foreach (var assembly in sources)
        {
            var name = assembly.GetName().Name!;
            Assert.Empty(assembly.GetReferencedAssemblies().Select(a => a.Name!).Where(IsTestAssembly).Select(n => $"{name} -> {n}"));
            Holds(Types.InAssembly(assembly).That().ResideInNamespace("Kiln"),
                s => s.ShouldNot().HaveDependencyOnAny("Kiln.Tests", "Xunit", "Kiln.FakeReplica"));
        }
    }

    /// <summary>Benchmarks ship as <c>kiln bench</c>; only that command reaches them.</summary>
    [Fact]
    public void OnlyTheBenchCommandUsesBenchmarks()
    {
        var referrers = SourceAssemblies()
            .Where(a => a.GetReferencedAssemblies().Any(r => r.Name == "Kiln.Bench"))
            .Select(a => a.GetName().Name);
        Assert.Equal(["kiln"], referrers);
        Holds(Types.InAssembly(Server).That().DoNotResideInNamespace(Commands),
            s => s.ShouldNot().HaveDependencyOn("Kiln.Bench"));
    }

    private static void Holds(PredicateList selection, Func<PredicateList, ConditionList> rule)
    {
        Assert.NotEmpty(selection.GetTypes());
        var result = rule(selection).GetResult();
        Assert.True(result.IsSuccessful, "violated by: " + string.Join(", ", result.FailingTypeNames ?? []));
    }

    private static string[] NonBclReferences(Assembly assembly) =>
        [.. assembly.GetReferencedAssemblies().Select(a => a.Name!).Where(n => !IsBcl(n))];

    private static bool IsBcl(string assembly) =>
        assembly is "System" or "netstandard" or "mscorlib" || assembly.StartsWith("System.", StringComparison.Ordinal)
        || assembly.StartsWith("Microsoft.Win32.", StringComparison.Ordinal);

    private static bool IsTestAssembly(string assembly) =>
        assembly.EndsWith(".Tests", StringComparison.Ordinal) || assembly == "Kiln.FakeReplica"
        || assembly.StartsWith("xunit", StringComparison.OrdinalIgnoreCase) || assembly.StartsWith("Microsoft.TestPlatform", StringComparison.Ordinal)
        || assembly.StartsWith("Microsoft.VisualStudio.TestPlatform", StringComparison.Ordinal) || assembly.StartsWith("NetArchTest", StringComparison.Ordinal);

    /// <summary>The assembly of every project under src/, by its AssemblyName (else the project's name).</summary>
    private static List<Assembly> SourceAssemblies()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Kiln.sln")))
        {
            root = root.Parent;
        }
        Assert.NotNull(root);
        var projects = Directory.GetFiles(Path.Combine(root.FullName, "src"), "*.csproj", SearchOption.AllDirectories);
        Assert.NotEmpty(projects);
        return [.. projects.Select(p =>
            Assembly.Load(XDocument.Load(p).Descendants("AssemblyName").FirstOrDefault()?.Value ?? Path.GetFileNameWithoutExtension(p)))];
    }
}
