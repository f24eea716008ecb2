using Kiln.Core.Errors;
using Kiln.Core.Listing;

namespace Kiln.Core.Tests.Listing;

public class ListQueryTests
{
    private sealed record Item(string Id, string State, string? DisplayName, DateTimeOffset CreateTime, int Replicas, bool Addons);

    private static readonly ListField[] Fields =
    [
        new("name", ListFieldKind.String),
        new("state", ListFieldKind.Enum, ["CREATING", "READY", "FAILED"]),
        new("display_name", ListFieldKind.String),
        new("create_time", ListFieldKind.Timestamp),
        new("replica_count", ListFieldKind.Number),
        new("enable_addons", ListFieldKind.Bool),
    ];

    private static readonly DateTimeOffset T0 = new(2026, 11, 21, 9, 30, 0, TimeSpan.Zero);

    private static readonly Item[] Items =
    [
        new("a", "READY", "Alpha chat", T0, 2, true),
        new("b", "CREATING", null, T0.AddHours(1), 0, false),
        new("c", "READY", "Gamma", T0.AddHours(2), 1, false),
        new("d", "FAILED", "Delta chat", T0.AddHours(3), 0, true),
    ];

    private static FieldValue? Value(Item item, ListField f) => f.Name switch
    {
        "name" => FieldValue.Of(item.Id),
        "state" => FieldValue.Of(item.State, ListFieldKind.Enum),
        "display_name" => item.DisplayName is { } n ? FieldValue.Of(n) : null,
        "create_time" => FieldValue.Of(item.CreateTime),
        "replica_count" => FieldValue.Of(item.Replicas),
        "enable_addons" => FieldValue.Of(item.Addons),
        _ => null,
    };

    private static string[] Ids(string? filter, string? orderBy = null, int pageSize = 50) =>
        [.. ListQuery.Parse(filter, orderBy, Fields, "test").Page(Items, Value, i => i.Id, pageSize, null).Items.Select(i => i.Id)];

    [Theory]
    [InlineData("state = \"READY\"", "a,c")]
    [InlineData("state=READY", "a,c")]
    [InlineData("state = 'ready'", "a,c")]
    [InlineData("state != READY", "b,d")]
    [InlineData("NOT state = READY", "b,d")]
    [InlineData("-state = READY", "b,d")]
    [InlineData("create_time > \"2026-11-21T10:00:00Z\"", "b,c,d")]
    [InlineData("create_time >= \"2026-11-21T11:30:00+01:00\"", "b,c,d")]
    [InlineData("createTime < \"2026-11-21T10:30:00Z\"", "a")]
    [InlineData("replica_count >= 1", "a,c")]
    [InlineData("enable_addons = true", "a,d")]
    [InlineData("display_name : \"chat\"", "a,d")]
    [InlineData("display_name = \"Gamma\"", "c")]
    [InlineData("display_name != \"Gamma\"", "a,b,d")]
    [InlineData("state = READY AND replica_count > 1", "a")]
    [InlineData("state = READY replica_count > 1", "a")]
    [InlineData("state = CREATING OR state = FAILED", "b,d")]
    // AIP-160: OR binds tighter than AND.
    [InlineData("replica_count = 0 AND state = CREATING OR enable_addons = true", "b,d")]
    [InlineData("(enable_addons = true AND state = READY) OR state = CREATING", "a,b")]
    [InlineData("NOT (state = READY OR state = FAILED)", "b")]
    [InlineData("", "a,b,c,d")]
    public void Filters_select_the_matching_items(string filter, string expected) =>
        Assert.Equal(expected.Split(','), Ids(filter));

    [Theory]
    [InlineData("state = ", "filter: expected a value after 'state =' at position 9, got the end of the filter")]
    [InlineData("state READY", "filter: expected an operator (=, !=, <, <=, >, >=, :) after 'state' at position 7, got 'READY'")]
    [InlineData("colour = red", "filter: unknown field 'colour' at position 1; known: name, state, display_name, create_time, replica_count, enable_addons")]
    [InlineData("state = READY)", "filter: unexpected ')' at position 14: it closes no '('")]
    [InlineData("(state = READY", "filter: expected ')' (to close the '(' at position 1) at position 15, got the end of the filter")]
    [InlineData("state = RUNNING", "filter: state is one of CREATING, READY, FAILED, got 'RUNNING' at position 9")]
    [InlineData("create_time > \"yesterday\"", "filter: create_time compares with an RFC 3339 time such as \"2026-11-21T09:30:00Z\", got \"yesterday\" at position 15")]
    [InlineData("replica_count > many", "filter: replica_count compares with a number, got 'many' at position 17")]
    [InlineData("state > READY", "filter: state takes only = and != (position 7)")]
    [InlineData("state : READY", "filter: ':' (contains) applies to text fields; state at position 7 takes =, != and comparisons")]
    [InlineData("display_name = \"open", "filter: unterminated string starting at position 16")]
    [InlineData("state = READY AND", "filter: expected a field name at position 18, got the end of the filter")]
    [InlineData("state ! READY", "filter: unexpected '!' at position 7; write != for \"not equal\" or NOT before a term")]
    public void Bad_filters_name_the_token_and_its_position(string filter, string message)
    {
        var e = Assert.Throws<KilnError>(() => ListQuery.Parse(filter, null, Fields, "test"));
        Assert.Equal((StatusCode.InvalidArgument, message), (e.Code, e.Message));
    }

    [Theory]
    [InlineData("create_time desc", "d,c,b,a")]
    [InlineData("state, create_time desc", "b,d,c,a")]
    [InlineData("replica_count desc, name", "a,c,b,d")]
    [InlineData("display_name", "b,a,d,c")]
    [InlineData("", "a,b,c,d")]
    public void Order_by_sorts_with_the_id_last(string orderBy, string expected) =>
        Assert.Equal(expected.Split(','), Ids(null, orderBy));

    [Theory]
    [InlineData("create_time sideways", "orderBy: 'sideways' after 'create_time': expected asc or desc")]
    [InlineData("size", "orderBy: unknown field 'size'; known: name, state, display_name, create_time, replica_count, enable_addons")]
    [InlineData("name,,state", "orderBy: empty term in \"name,,state\"; write fields separated by commas, e.g. \"create_time desc, name\"")]
    public void Bad_order_by_names_the_term(string orderBy, string message) =>
        Assert.Equal(message, Assert.Throws<KilnError>(() => ListQuery.Parse(null, orderBy, Fields, "test")).Message);

    [Fact]
    public void Pages_follow_the_order_and_survive_changes_between_them()
    {
        var query = ListQuery.Parse("state != FAILED", "create_time desc", Fields, "acme");
        var first = query.Page(Items, Value, i => i.Id, 2, null);
        Assert.Equal(["c", "b"], first.Items.Select(i => i.Id));
        Assert.Equal(3, first.TotalSize);
        Assert.NotNull(first.NextPageToken);

        // The last item of the page is deleted and a newer one added before the next page: the
        // rest continues after where the first page ended, without repeats or gaps.
        var changed = Items.Where(i => i.Id != "b").Append(new Item("e", "READY", null, T0.AddHours(9), 0, false));
        var second = query.Page(changed, Value, i => i.Id, 2, first.NextPageToken);
        Assert.Equal(["a"], second.Items.Select(i => i.Id));
        Assert.Null(second.NextPageToken);
    }

    [Fact]
    public void A_token_is_bound_to_its_list_filter_and_order()
    {
        var first = ListQuery.Parse(null, "name", Fields, "acme").Page(Items, Value, i => i.Id, 1, null);
        foreach (var other in new[] { ListQuery.Parse(null, "name desc", Fields, "acme"), ListQuery.Parse("state = READY", "name", Fields, "acme"), ListQuery.Parse(null, "name", Fields, "other") })
        {
            var e = Assert.Throws<KilnError>(() => other.Page(Items, Value, i => i.Id, 1, first.NextPageToken));
            Assert.Contains("does not belong to this list with this filter and orderBy", e.Message);
        }
        Assert.Throws<KilnError>(() => ListQuery.Parse(null, "name", Fields, "acme").Page(Items, Value, i => i.Id, 1, "garbage!"));
    }
}
