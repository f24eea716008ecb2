using Xunit.Abstractions;
using Xunit.Sdk;

namespace Kiln.Store.Tests;

/// <summary>
/// A test of the store suite, written once in an abstract class and run by one derived class per
/// database (<c>Sqlite…</c>, <c>Postgres…</c>). On a machine without PostgreSQL the PostgreSQL
/// classes' cases are skipped with the reason, and the SQLite ones still run.
/// </summary>
[XunitTestCaseDiscoverer("Kiln.Store.Tests.StoreFactDiscoverer", "Kiln.Store.Tests")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class StoreFactAttribute : FactAttribute;

/// <summary>Discovers <see cref="StoreFactAttribute"/> cases, skipping PostgreSQL ones when it is missing.</summary>
public sealed class StoreFactDiscoverer(IMessageSink diagnosticMessageSink) : FactDiscoverer(diagnosticMessageSink)
{
    public override IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute)
    {
        var postgres = testMethod.TestClass.Class.Name.Split('.')[^1].StartsWith(nameof(StoreBackend.Postgres), StringComparison.Ordinal);
        if (postgres && PostgresServer.SkipReason is { } reason)
        {
            return [new XunitSkippedDataRowTestCase(DiagnosticMessageSink, discoveryOptions.MethodDisplayOrDefault(),
                discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod, reason)];
        }
        return base.Discover(discoveryOptions, testMethod, factAttribute);
    }
}
