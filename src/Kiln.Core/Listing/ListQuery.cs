using System.Buffers.Text;
using System.Text;
using Kiln.Core.Errors;

namespace Kiln.Core.Listing;

/// <summary>One page of a filtered, ordered list.</summary>
/// <param name="Items">The page's items, in order.</param>
/// <param name="NextPageToken">The token for the next page, or null on the last one.</param>
/// <param name="TotalSize">How many items pass the filter.</param>
public sealed record ListPage<T>(IReadOnlyList<T> Items, string? NextPageToken, int TotalSize);

/// <summary>
/// A list request's <c>filter</c> and <c>orderBy</c> applied to items in memory, with keyset page
/// tokens: a token holds the last item's sort key and ID, and the next page starts after it, so
/// items added or removed between pages neither repeat nor skip the others. A token is bound to
/// its list, filter and order (<paramref name="Scope"/>); reusing it with others is INVALID_ARGUMENT.
/// </summary>
/// <param name="Filter">Which items.</param>
/// <param name="Order">In which order.</param>
/// <param name="Scope">The list and its parameters (account, filter and orderBy text, flags).</param>
public sealed record ListQuery(Filter Filter, OrderBy Order, string Scope)
{
    private const string Version = "q1";

    /// <summary>Parses both parameters over <paramref name="fields"/>; the scope binds page tokens to them.</summary>
    public static ListQuery Parse(string? filter, string? orderBy, IReadOnlyList<ListField> fields, string list) =>
        new(Filter.Parse(filter, fields), OrderBy.Parse(orderBy, fields), $"{list}\u001f{filter}\u001f{orderBy}");

    /// <summary>The page of <paramref name="items"/> after <paramref name="pageToken"/>.</summary>
    public ListPage<T> Page<T>(IEnumerable<T> items, Func<T, ListField, FieldValue?> value, Func<T, string> id, int pageSize, string? pageToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        var keyed = items
            .Where(item => Filter.Matches(f => value(item, f)))
            .Select(item => (Item: item, Key: Order.Key(f => value(item, f)), Id: id(item)))
            .ToList();
        keyed.Sort((a, b) => Order.Compare(a.Key, a.Id, b.Key, b.Id));
        var start = 0;
        if (Decode(pageToken) is var (afterKey, afterId))
        {
            while (start < keyed.Count && Order.Compare(keyed[start].Key, keyed[start].Id, afterKey, afterId) <= 0)
            {
                start++;
            }
        }
        var page = keyed.Skip(start).Take(pageSize).ToList();
        var next = start + page.Count < keyed.Count ? Encode(page[^1].Key, page[^1].Id) : null;
        return new([.. page.Select(p => p.Item)], next, keyed.Count);
    }

    private string Encode(FieldValue?[] key, string id)
    {
        var parts = key.Select(v => v?.Encode() ?? "").Append(id).Select(p => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(p)));
        return Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"{Version}\n{Scope}\n{string.Join('.', parts)}"));
    }

    private (FieldValue?[] Key, string Id)? Decode(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }
        try
        {
            var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token));
            var head = $"{Version}\n{Scope}\n";
            if (text.StartsWith(head, StringComparison.Ordinal))
            {
                var parts = text[head.Length..].Split('.').Select(p => Encoding.UTF8.GetString(Base64Url.DecodeFromChars(p))).ToArray();
                if (parts.Length == Order.Count + 1)
                {
                    var key = new FieldValue?[Order.Count];
                    var ok = true;
                    for (var i = 0; i < key.Length && ok; i++)
                    {
                        key[i] = FieldValue.Parse(parts[i], Order.FieldAt(i).Kind);
                        ok = parts[i].Length == 0 || key[i] is not null;
                    }
                    if (ok)
                    {
                        return (key, parts[^1]);
                    }
                }
            }
        }
        catch (FormatException)
        {
        }
        throw KilnError.InvalidArgument(
            $"invalid pageToken \"{token}\": it does not belong to this list with this filter and orderBy (send them unchanged with the token)");
    }
}
