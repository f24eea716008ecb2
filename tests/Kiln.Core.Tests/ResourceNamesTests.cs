using Kiln.Core.Errors;
using Kiln.Core.Names;

namespace Kiln.Core.Tests;

public class ResourceNamesTests
{
    [Theory]
    [InlineData("a")]
    [InlineData("my-model")]
    [InlineData("llama-v3p1-8b-instruct")]
    [InlineData("a--b")]
    [InlineData("x1")]
    public void Accepts_valid_ids(string id) => Assert.True(ResourceNames.IsValidId(id));

    [Theory]
    [InlineData("", "it is empty")]
    [InlineData("My-model", "\"M\" is not a lowercase letter, digit or hyphen")]
    [InlineData("1abc", "it does not start with a letter")]
    [InlineData("-abc", "it does not start with a letter")]
    [InlineData("abc-", "it ends with a hyphen")]
    [InlineData("a_b", "\"_\" is not a lowercase letter, digit or hyphen")]
    [InlineData("a.b", "\".\" is not a lowercase letter, digit or hyphen")]
    [InlineData("a/b", "\"/\" is not a lowercase letter, digit or hyphen")]
    public void Rejects_invalid_ids_naming_value_and_rule(string id, string problem)
    {
        var message = ResourceNames.ValidateId(id, "deployment");
        Assert.Equal($"invalid deployment ID \"{id}\": {problem} ({ResourceNames.IdRule})", message);
    }

    [Fact]
    public void Length_limit_is_63()
    {
        Assert.True(ResourceNames.IsValidId(new string('a', 63)));
        Assert.Contains("it is 64 characters long", ResourceNames.ValidateId(new string('a', 64), "model"));
    }

    [Fact]
    public void Require_throws_invalid_argument()
    {
        var e = Assert.Throws<KilnError>(() => ResourceNames.RequireValidId("Bad", "account"));
        Assert.Equal(StatusCode.InvalidArgument, e.Code);
        Assert.Equal(400, e.HttpStatus);
        Assert.StartsWith("invalid account ID \"Bad\"", e.Message);
    }

    [Fact]
    public void Generated_deployment_ids_are_valid_and_distinct()
    {
        var ids = Enumerable.Range(0, 500).Select(_ => ResourceNames.NewDeploymentId()).ToList();
        Assert.All(ids, id =>
        {
            Assert.Equal(8, id.Length);
            Assert.True(char.IsAsciiLetterLower(id[0]));
            Assert.All(id, c => Assert.True(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c)));
            Assert.True(ResourceNames.IsValidId(id));
        });
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public void Seeded_generation_is_reproducible() =>
        Assert.Equal(ResourceNames.NewDeploymentId(new Random(7)), ResourceNames.NewDeploymentId(new Random(7)));

    [Fact]
    public void Model_names_parse_and_format()
    {
        var name = ModelName.Parse("accounts/acme/models/llama-3");
        Assert.Equal("acme", name.Account);
        Assert.Equal("llama-3", name.Model);
        Assert.Equal("accounts/acme/models/llama-3", name.ToString());
        Assert.Equal(name, new ModelName("acme", "llama-3"));
    }

    [Fact]
    public void Deployment_names_parse_and_format()
    {
        var name = DeploymentName.Parse("accounts/acme/deployments/d1");
        Assert.Equal(("acme", "d1"), (name.Account, name.Deployment));
        Assert.Equal("accounts/acme/deployments/d1", name.ToString());
    }

    [Theory]
    [InlineData("accounts/acme/models")]
    [InlineData("accounts/acme/deployments/d")]
    [InlineData("account/acme/models/m")]
    [InlineData("accounts/acme/models/m/x")]
    [InlineData("accounts//models/m")]
    [InlineData("accounts/Acme/models/m")]
    [InlineData("accounts/acme/models/M")]
    [InlineData("")]
    public void Bad_model_names_are_rejected(string text)
    {
        Assert.False(ModelName.TryParse(text, out _, out var error));
        Assert.StartsWith($"invalid model name \"{text}\"", error);
        Assert.Equal(StatusCode.InvalidArgument, Assert.Throws<KilnError>(() => ModelName.Parse(text)).Code);
    }

    [Fact]
    public void Shape_error_names_the_expected_form()
    {
        DeploymentName.TryParse("deployments/x", out _, out var error);
        Assert.Equal("invalid deployment name \"deployments/x\": expected accounts/<ACCOUNT_ID>/deployments/<DEPLOYMENT_ID>", error);
    }

    [Fact]
    public void Id_or_name_resolves_bare_ids_in_the_account()
    {
        Assert.Equal("accounts/me/deployments/d1", DeploymentName.FromIdOrName("d1", "me").ToString());
        Assert.Equal("accounts/x/deployments/d1", DeploymentName.FromIdOrName("accounts/x/deployments/d1", "me").ToString());
        Assert.Equal("accounts/me/models/m", ModelName.FromIdOrName("m", "me").ToString());
    }

    [Fact]
    public void Constructors_validate() =>
        Assert.Throws<KilnError>(() => new DeploymentName("acme", "Bad_Id"));
}
