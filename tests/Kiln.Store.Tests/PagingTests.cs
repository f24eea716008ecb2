using Kiln.Core.Errors;

namespace Kiln.Store.Tests;

public abstract class PagingTests(StoreBackend backend) : IDisposable
{
    private readonly TempStore _t = new(backend);

    public void Dispose() => _t.Dispose();

    private async Task SeedAsync(int n)
    {
        await _t.Store.CreateAccountAsync(new NewAccount("acme"));
        await _t.Store.CreateAccountAsync(new NewAccount("other"));
        for (var i = 0; i < n; i++)
        {
            await _t.Store.CreateDeploymentAsync(new NewDeployment("acme", $"d{i:D3}", TempStore.Spec(), 0));
        }
        await _t.Store.CreateDeploymentAsync(new NewDeployment("other", "zzz", TempStore.Spec(), 0));
    }

    [StoreFact]
    public async Task Walks_every_item_once_in_id_order()
    {
        await SeedAsync(7);
        var seen = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var page = await _t.Store.ListDeploymentsAsync("acme", new PageRequest(3, token));
            Assert.Equal(7, page.TotalSize);
            seen.AddRange(page.Items.Select(d => d.Id));
            token = page.NextPageToken;
            pages++;
        }
        while (token is not null);
        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"d{i:D3}"), seen);
    }

    [StoreFact]
    public async Task Exact_multiple_has_no_empty_trailing_page()
    {
        await SeedAsync(4);
        var first = await _t.Store.ListDeploymentsAsync("acme", new PageRequest(2));
        var second = await _t.Store.ListDeploymentsAsync("acme", new PageRequest(2, first.NextPageToken));
        Assert.Null(second.NextPageToken);
        Assert.Equal(2, second.Items.Count);
    }

    [StoreFact]
    public async Task Default_is_50_and_max_is_200()
    {
        await SeedAsync(205);
        Assert.Equal(50, (await _t.Store.ListDeploymentsAsync("acme", PageRequest.First)).Items.Count);
        var big = await _t.Store.ListDeploymentsAsync("acme", new PageRequest(1000));
        Assert.Equal(200, big.Items.Count);
        Assert.NotNull(big.NextPageToken);
        Assert.Equal(205, big.TotalSize);
    }

    [StoreFact]
    public async Task Inserts_between_pages_do_not_repeat_or_skip_seen_items()
    {
        await SeedAsync(4);
        var first = await _t.Store.ListDeploymentsAsync("acme", new PageRequest(2));
        await _t.Store.CreateDeploymentAsync(new NewDeployment("acme", "a-first", TempStore.Spec(), 0));
        var second = await _t.Store.ListDeploymentsAsync("acme", new PageRequest(2, first.NextPageToken));
        Assert.Equal(["d002", "d003"], second.Items.Select(d => d.Id));
    }

    [StoreFact]
    public async Task Tokens_are_bound_to_their_list()
    {
        await SeedAsync(3);
        var token = (await _t.Store.ListDeploymentsAsync("acme", new PageRequest(1))).NextPageToken;
        var foreign = await Assert.ThrowsAsync<KilnError>(() => _t.Store.ListDeploymentsAsync("other", new PageRequest(1, token)));
        Assert.Equal(StatusCode.InvalidArgument, foreign.Code);
        await Assert.ThrowsAsync<KilnError>(() => _t.Store.ListModelsAsync("acme", new PageRequest(1, token)));
        await Assert.ThrowsAsync<KilnError>(() => _t.Store.ListDeploymentsAsync("acme", new PageRequest(1, "garbage!")));
        await Assert.ThrowsAsync<KilnError>(() => _t.Store.ListDeploymentsAsync("acme", new PageRequest(-1)));
    }

    [StoreFact]
    public async Task Accounts_list_pages()
    {
        for (var i = 0; i < 5; i++)
        {
            await _t.Store.CreateAccountAsync(new NewAccount($"a{i}"));
        }
        var page = await _t.Store.ListAccountsAsync(new PageRequest(4));
        Assert.Equal(4, page.Items.Count);
        var rest = await _t.Store.ListAccountsAsync(new PageRequest(4, page.NextPageToken));
        Assert.Equal(["a4"], rest.Items.Select(a => a.Id));
        Assert.Null(rest.NextPageToken);
    }
}

public sealed class SqlitePagingTests() : PagingTests(StoreBackend.Sqlite);

public sealed class PostgresPagingTests() : PagingTests(StoreBackend.Postgres);
