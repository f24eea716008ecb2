using Kiln.Core.Accounts;
using Kiln.Core.Auth;
using Kiln.Core.Deployments;
using Kiln.Core.Errors;
using Kiln.Core.Models;
using Kiln.Core.Time;

namespace Kiln.Core.Tests;

public class ApiKeysTests
{
    [Fact]
    public void Generated_keys_are_well_formed_and_unique()
    {
        var keys = Enumerable.Range(0, 200).Select(_ => ApiKeys.Generate()).ToList();
        Assert.All(keys, k =>
        {
            Assert.StartsWith("kiln_", k);
            Assert.Equal(37, k.Length);
            Assert.True(ApiKeys.IsWellFormed(k));
        });
        Assert.Equal(keys.Count, keys.Distinct().Count());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("kiln_short")]
    [InlineData("fw_0123456789abcdefghij0123456789ab")]
    [InlineData("kiln_0123456789abcdefghij0123456789a!")]
    public void Malformed_keys(string? key) => Assert.False(ApiKeys.IsWellFormed(key));

    [Fact]
    public void Hash_is_lowercase_sha256_hex()
    {
        Assert.Equal("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", ApiKeys.Hash("hello"));
    }

    [Fact]
    public void Verify_matches_only_the_right_key()
    {
        var key = ApiKeys.Generate();
        var hash = ApiKeys.Hash(key);
        Assert.True(ApiKeys.Verify(key, hash));
        Assert.True(ApiKeys.Verify(key, hash.ToUpperInvariant()));
        Assert.False(ApiKeys.Verify(ApiKeys.Generate(), hash));
        Assert.False(ApiKeys.Verify(key, "not-hex"));
        Assert.False(ApiKeys.Verify(key, hash[..62]));
    }

    [Fact]
    public void Redact_keeps_a_short_prefix() => Assert.Equal("kiln_abcd…", ApiKeys.Redact("kiln_abcdefgh"));
}

public class KilnErrorTests
{
    [Theory]
    [InlineData(StatusCode.InvalidArgument, "INVALID_ARGUMENT", 400)]
    [InlineData(StatusCode.Unauthenticated, "UNAUTHENTICATED", 401)]
    [InlineData(StatusCode.PermissionDenied, "PERMISSION_DENIED", 403)]
    [InlineData(StatusCode.NotFound, "NOT_FOUND", 404)]
    [InlineData(StatusCode.AlreadyExists, "ALREADY_EXISTS", 409)]
    [InlineData(StatusCode.Aborted, "ABORTED", 409)]
    [InlineData(StatusCode.FailedPrecondition, "FAILED_PRECONDITION", 400)]
    [InlineData(StatusCode.ResourceExhausted, "RESOURCE_EXHAUSTED", 429)]
    [InlineData(StatusCode.Unavailable, "UNAVAILABLE", 503)]
    [InlineData(StatusCode.Internal, "INTERNAL", 500)]
    public void Codes_map_to_wire_names_and_http(StatusCode code, string name, int http)
    {
        Assert.Equal(name, code.ToWireName());
        Assert.Equal(http, code.ToHttpStatus());
        Assert.True(StatusCodes.TryParse(name, out var parsed));
        Assert.Equal(code, parsed);
    }

    [Fact]
    public void Factories_and_body()
    {
        var e = KilnError.NotFound("deployment", "accounts/a/deployments/d");
        Assert.Equal(404, e.HttpStatus);
        Assert.Equal(new ErrorBody("NOT_FOUND", "deployment accounts/a/deployments/d not found"), e.ToBody());
        Assert.Equal(409, KilnError.AlreadyExists("model", "m").HttpStatus);
        Assert.Equal(StatusCode.Aborted, KilnError.Conflict("x").Code);
        Assert.Throws<ArgumentException>(() => new KilnError(StatusCode.Ok, "fine"));
    }
}

public class ClockAndWireTests
{
    [Fact]
    public void Fake_clock_moves_only_when_told()
    {
        var clock = new FakeClock(new DateTimeOffset(2030, 5, 6, 7, 8, 9, TimeSpan.FromHours(2)));
        Assert.Equal(TimeSpan.Zero, clock.UtcNow.Offset);
        Assert.Equal(new DateTimeOffset(2030, 5, 6, 5, 8, 9, TimeSpan.Zero), clock.UtcNow);
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(new DateTimeOffset(2030, 5, 6, 5, 9, 9, TimeSpan.Zero), clock.UtcNow);
        var now = DateTimeOffset.UtcNow;
        Assert.InRange(SystemClock.Instance.UtcNow, now.AddMinutes(-1), now.AddMinutes(1));
    }

    [Fact]
    public void Model_states_and_kinds()
    {
        Assert.Equal(ModelState.Deployed, ModelStates.Derive(ModelState.Ready, [DeploymentState.Creating, DeploymentState.Ready]));
        Assert.Equal(ModelState.Deployed, ModelStates.Derive(ModelState.Ready, [DeploymentState.Updating]));
        Assert.Equal(ModelState.Deploying, ModelStates.Derive(ModelState.Ready, [DeploymentState.Creating]));
        Assert.Equal(ModelState.Deploying, ModelStates.Derive(ModelState.Ready, [DeploymentState.Failed, DeploymentState.Creating]));
        Assert.Equal(ModelState.Ready, ModelStates.Derive(ModelState.Ready, []));
        Assert.Equal(ModelState.Uploading, ModelStates.Derive(ModelState.Uploading, [DeploymentState.Ready]));
        Assert.Equal("DEPLOYING", ModelState.Deploying.ToWireName());
        Assert.Equal("DEPLOYED", ModelState.Deployed.ToWireName());
        Assert.Equal("HF_PEFT_ADDON", ModelKind.HfPeftAddon.ToWireName());
        Assert.True(ModelKinds.TryParse("HF_BASE_MODEL", out var k));
        Assert.Equal(ModelKind.HfBaseModel, k);
        Assert.True(ModelKind.HfPeftAddon.IsAddon());
        Assert.Equal("enterprise", AccountTier.Enterprise.ToWireName());
        Assert.True(AccountTiers.TryParse("developer", out var t));
        Assert.Equal(AccountTier.Developer, t);
    }
}
