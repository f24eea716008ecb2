using Kiln.Core.Catalog;

namespace Kiln.Server.ControlPlane.Catalog;

/// <summary>The model catalog the server offers: the one built into <c>kiln</c> (<c>catalog.json</c>), or an operator's file.</summary>
public static class CatalogStore
{
    private const string ResourceName = "Kiln.Server.ControlPlane.Catalog.catalog.json";

    /// <summary>The built-in catalog.</summary>
    public static ModelCatalog BuiltIn()
    {
        using var stream = typeof(CatalogStore).Assembly.GetManifestResourceStream(ResourceName)
                           ?? throw new InvalidOperationException($"the resource {ResourceName} is missing from kiln");
        using var reader = new StreamReader(stream);
        return ModelCatalog.Parse(reader.ReadToEnd());
    }

    /// <summary>The catalog in <paramref name="file"/>; false with the problem (unreadable, or which entry and field is wrong).</summary>
    public static bool TryLoad(string file, out ModelCatalog? catalog, out string? error)
    {
        try
        {
            return ModelCatalog.TryParse(File.ReadAllText(file), out catalog, out error);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            (catalog, error) = (null, e.Message);
            return false;
        }
    }
}
