namespace FakeUpstream;

/// <summary>How the fake computes embedding vectors.</summary>
public enum FakeEmbeddingMode
{
    /// <summary>A pseudo-random unit vector per input text: equal texts get equal vectors, any other two are unrelated.</summary>
    Hash,

    /// <summary>
    /// Bag of words (<see cref="BagOfWordsEmbedding"/>): the cosine of two texts follows the words they share, so a
    /// paraphrase that keeps the content words scores high and an unrelated text near 0. For semantic cache tests.
    /// </summary>
    BagOfWords,
}
