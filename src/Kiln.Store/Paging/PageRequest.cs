using Kiln.Core.Errors;

namespace Kiln.Store;

/// <summary>Which page of a list to return.</summary>
/// <param name="PageSize">Items per page: 0 means the default (50); larger than 200 is capped at 200.</param>
/// <param name="PageToken">The previous page's <see cref="Page{T}.NextPageToken"/>, or null for the first page.</param>
public sealed record PageRequest(int PageSize = 0, string? PageToken = null)
{
    /// <summary>Page size when none is given.</summary>
    public const int DefaultPageSize = 50;

    /// <summary>Largest page size; larger requests are capped, as Fireworks does.</summary>
    public const int MaxPageSize = 200;

    /// <summary>The first page with the default size.</summary>
    public static readonly PageRequest First = new();

    /// <summary>The effective size; throws INVALID_ARGUMENT for a negative size.</summary>
    public int EffectiveSize => PageSize switch
    {
        < 0 => throw KilnError.InvalidArgument($"pageSize must not be negative, got {PageSize}"),
        0 => DefaultPageSize,
        > MaxPageSize => MaxPageSize,
        _ => PageSize,
    };
}

/// <summary>One page of a list.</summary>
/// <param name="Items">The items, in the list's order.</param>
/// <param name="NextPageToken">Opaque token for the next page, or null on the last page.</param>
/// <param name="TotalSize">How many items the whole list has.</param>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextPageToken, int TotalSize);
