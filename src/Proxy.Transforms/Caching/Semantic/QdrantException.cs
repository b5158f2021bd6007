namespace Proxy.Transforms.Caching.Semantic;

/// <summary>Qdrant answered an error status; the semantic cache treats it as a backend failure (the request goes on uncached).</summary>
public sealed class QdrantException : Exception
{
    public QdrantException()
    {
    }

    public QdrantException(string message)
        : base(message)
    {
    }

    public QdrantException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
