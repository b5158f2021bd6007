namespace Proxy.IntegrationTests.Infrastructure;

public sealed class CdpException(string message) : Exception(message);
