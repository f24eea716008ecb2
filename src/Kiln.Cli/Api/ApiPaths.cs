namespace Kiln.Cli.Api;

/// <summary>The control-plane routes, with every ID escaped as one path segment.</summary>
public static class ApiPaths
{
    public const string WhoAmI = "/v1/whoami";
    public const string Accounts = "/v1/accounts";
    public const string Catalog = "/v1/catalog";

    public static string CatalogEntry(string id) => $"{Catalog}/{E(id)}";

    public const string Accelerators = "/v1/accelerators";
    public const string Engines = "/v1/engines";

    public static string ShapeVersions(string a, string s) => $"{Account(a)}/deploymentShapes/{E(s)}/versions";
    public static string ShapeVersion(string a, string s, string v) => $"{ShapeVersions(a, s)}/{E(v)}";

    public static string Account(string a) => $"/v1/accounts/{E(a)}";
    public static string ApiKeys(string a) => $"{Account(a)}/apiKeys";
    public static string ApiKey(string a, string k) => $"{ApiKeys(a)}/{E(k)}";
    public static string Models(string a) => $"{Account(a)}/models";
    public static string Model(string a, string m) => $"{Models(a)}/{E(m)}";
    public static string ModelUpload(string a, string m) => $"{Model(a, m)}:upload";
    public static string Usage(string a) => $"{Account(a)}/usage";
    public static string Deployments(string a) => $"{Account(a)}/deployments";
    public static string Deployment(string a, string d) => $"{Deployments(a)}/{E(d)}";
    public static string DeploymentUndelete(string a, string d) => $"{Deployment(a, d)}:undelete";
    public static string DeploymentScale(string a, string d) => $"{Deployment(a, d)}:scale";
    public static string DeployedModels(string a) => $"{Account(a)}/deployedModels";
    public static string DeployedModel(string a, string id) => $"{DeployedModels(a)}/{E(id)}";

    private static string E(string segment) => Uri.EscapeDataString(segment);
}
