namespace Proxy.Admin.Storage;

/// <summary>The database could not be reached or did not answer in time; the API turns this into a 503.</summary>
internal sealed class StoreUnavailableException(string message, Exception inner) : Exception(message, inner);
