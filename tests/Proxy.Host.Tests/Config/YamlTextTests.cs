using Proxy.Host.Config.Yaml;

namespace Proxy.Host.Tests.Config;

public sealed class YamlTextTests
{
    // expected values are Python's repr(float)
    [Theory]
    [InlineData(1e-6, "1e-06")]
    [InlineData(2.8e-6, "2.8e-06")]
    [InlineData(3000.0, "3000.0")]
    [InlineData(0.5, "0.5")]
    [InlineData(1e16, "1e+16")]
    [InlineData(123456789012345.6, "123456789012345.6")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(1.5e300, "1.5e+300")]
    [InlineData(0.30000000000000004, "0.30000000000000004")]
    [InlineData(-2.5, "-2.5")]
    public void FloatRepr_matches_python(double value, string expected) => Assert.Equal(expected, YamlText.FloatRepr(value));
}
