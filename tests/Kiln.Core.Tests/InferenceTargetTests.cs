using Kiln.Core.Names;

namespace Kiln.Core.Tests;

public class InferenceTargetTests
{
    [Fact]
    public void Model_name_alone()
    {
        var t = InferenceTarget.Parse("accounts/a/models/m", "me");
        Assert.Equal("accounts/a/models/m", t.Model!.ToString());
        Assert.Null(t.Deployment);
    }

    [Fact]
    public void Deployment_name_alone()
    {
        var t = InferenceTarget.Parse("accounts/a/deployments/d", null);
        Assert.Null(t.Model);
        Assert.Equal("accounts/a/deployments/d", t.Deployment!.ToString());
    }

    [Fact]
    public void Legacy_full_form()
    {
        var t = InferenceTarget.Parse("accounts/a/models/m#accounts/a/deployments/d", null);
        Assert.Equal("accounts/a/models/m", t.Model!.ToString());
        Assert.Equal("accounts/a/deployments/d", t.Deployment!.ToString());
        Assert.Equal("accounts/a/models/m#accounts/a/deployments/d", t.ToString());
    }

    [Fact]
    public void Legacy_short_form_resolves_in_callers_account()
    {
        var t = InferenceTarget.Parse("m#d", "me");
        Assert.Equal("accounts/me/models/m", t.Model!.ToString());
        Assert.Equal("accounts/me/deployments/d", t.Deployment!.ToString());
    }

    [Fact]
    public void Mixed_form()
    {
        var t = InferenceTarget.Parse("accounts/fireworks/models/m#d", "me");
        Assert.Equal("accounts/fireworks/models/m", t.Model!.ToString());
        Assert.Equal("accounts/me/deployments/d", t.Deployment!.ToString());
    }

    [Theory]
    [InlineData("", "me", "model must not be empty")]
    [InlineData("m", "me", "invalid model \"m\": expected accounts/<ACCOUNT_ID>/models/<MODEL_ID>")]
    [InlineData("m#d", null, "needs an account")]
    [InlineData("M#d", "me", "invalid model ID \"M\"")]
    [InlineData("m#", "me", "invalid deployment ID \"\"")]
    [InlineData("m#d#e", "me", "invalid deployment ID \"d#e\"")]
    [InlineData("accounts/a/models/m#accounts/a/models/n", "me", "invalid deployment name")]
    [InlineData("m#d", "Bad", "invalid account ID \"Bad\"")]
    public void Rejections_say_why(string text, string? account, string fragment)
    {
        Assert.False(InferenceTarget.TryParse(text, account, out _, out var error));
        Assert.Contains(fragment, error);
    }
}
