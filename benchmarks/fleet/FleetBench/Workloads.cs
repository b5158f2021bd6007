using System.Text;

namespace FleetBench;

/// <summary>One request of a workload: the chat to send, the session it belongs to, and whom to tell the answer.</summary>
internal sealed record FleetRequest(List<(string Role, string Content)> Messages, string SessionId, int MaxTokens, Conversation? Conversation);

/// <summary>A multi-turn chat: each answer is appended before the next question, as a client does.</summary>
internal sealed class Conversation(string id, List<(string Role, string Content)> start, int rounds)
{
    public string Id { get; } = id;

    public List<(string Role, string Content)> Messages { get; } = start;

    public int RoundsLeft { get; set; } = rounds;

    public bool Busy { get; set; }
}

/// <summary>A seeded request generator with an offered rate (open loop: arrivals do not wait for answers).</summary>
internal abstract class Workload(string name, string description, double rate, int warmUp, int measured)
{
    private static readonly string[] Words =
    [
        "river", "stone", "market", "signal", "harbor", "engine", "garden", "lantern", "copper", "meadow", "thunder", "violet",
        "canyon", "orbit", "ledger", "falcon", "quartz", "willow", "ember", "summit", "cobalt", "prairie", "glacier", "saffron",
    ];

    public string Name { get; } = name;

    public string Description { get; } = description;

    public double Rate { get; } = rate;

    public int WarmUp { get; } = warmUp;

    public int Measured { get; } = measured;

    public abstract FleetRequest Next(SeededRandom random);

    public virtual void Completed(FleetRequest request, string answer)
    {
    }

    /// <summary>About <paramref name="tokens"/> tokens (4 characters each, as the simulator counts) of seeded words.</summary>
    protected static string Text(SeededRandom random, int tokens, string prefix = "")
    {
        var text = new StringBuilder(prefix, (tokens * 4) + 16);
        while (text.Length < tokens * 4)
        {
            text.Append(Words[random.Next(Words.Length)]).Append(random.Next(10) == 0 ? ". " : " ");
        }

        return text.ToString();
    }
}

/// <summary>Many users asking about a few long documents (W1): the documents are ≈ 3x one engine's cache.</summary>
internal sealed class SharedDocuments : Workload
{
    private readonly string[] _documents;

    public SharedDocuments(SeededRandom random, int documents, int documentTokens, double rate, int warmUp, int measured)
        : base("shared-prefix", $"{documents} documents x {documentTokens} tokens, 5 users each, 100-token questions", rate, warmUp, measured)
    {
        _documents = new string[documents];
        for (var i = 0; i < documents; i++)
        {
            _documents[i] = Text(random, documentTokens, $"Document {i}. ");
        }
    }

    public override FleetRequest Next(SeededRandom random)
    {
        var document = random.Next(_documents.Length);
        var user = random.Next(5);
        return new FleetRequest(
            [("user", _documents[document] + "\nQuestion: " + Text(random, 100))],
            $"user-{document}-{user}", 32, null);
    }
}

/// <summary>Multi-turn chats growing each round (W2), with one shared system prompt.</summary>
internal sealed class MultiTurn(SeededRandom random, int active, int rounds, double rate, int warmUp, int measured)
    : Workload("multi-turn", $"{active} chats at a time, {rounds} rounds of 150-token questions, 500-token shared system prompt", rate, warmUp, measured)
{
    private readonly string _system = Text(random, 500, "You are a careful assistant. ");
    private readonly List<Conversation> _conversations = [];
    private int _started;

    public override FleetRequest Next(SeededRandom random)
    {
        while (_conversations.Count < active)
        {
            _conversations.Add(New());
        }

        // A chat that is waiting for its answer cannot ask again; pick among the others (a new one if all are busy).
        var idle = _conversations.Where(c => !c.Busy).ToList();
        var conversation = idle.Count > 0 ? idle[random.Next(idle.Count)] : New();
        if (!_conversations.Contains(conversation))
        {
            _conversations.Add(conversation);
        }

        conversation.Busy = true;
        conversation.RoundsLeft--;
        var messages = new List<(string Role, string Content)>(conversation.Messages) { ("user", Text(random, 150)) };
        return new FleetRequest(messages, conversation.Id, 32, conversation);
    }

    public override void Completed(FleetRequest request, string answer)
    {
        var conversation = request.Conversation!;
        conversation.Messages.Add(request.Messages[^1]);
        conversation.Messages.Add(("assistant", answer));
        conversation.Busy = false;
        if (conversation.RoundsLeft <= 0)
        {
            _conversations.Remove(conversation);
        }
    }

    private Conversation New() => new($"chat-{_started++}", [("system", _system)], rounds);
}

/// <summary>Unique prompts (W4, the control): nothing to share, so routing must not hurt.</summary>
internal sealed class UniquePrompts(double rate, int warmUp, int measured)
    : Workload("unique", "1,000-token prompts, no two alike", rate, warmUp, measured)
{
    private int _count;

    public override FleetRequest Next(SeededRandom random)
    {
        var id = _count++;
        return new FleetRequest([("user", Text(random, 1000, $"Request {id}. "))], $"unique-{id}", 32, null);
    }
}

/// <summary>One hot prefix at half the traffic (W5), unique prompts for the other half.</summary>
internal sealed class HotPrefix : Workload
{
    private readonly string _hot;
    private int _count;

    public HotPrefix(SeededRandom random, double rate, int warmUp, int measured)
        : base("hot-prefix", "50 %: one 2,000-token prefix + 100-token question; 50 %: unique 1,000-token prompts", rate, warmUp, measured)
    {
        _hot = Text(random, 2000, "Shared policy handbook. ");
    }

    public override FleetRequest Next(SeededRandom random)
    {
        var id = _count++;
        var user = random.Next(120);
        return random.Next(2) == 0
            ? new FleetRequest([("user", _hot + "\nQuestion: " + Text(random, 100))], $"hot-{user}", 32, null)
            : new FleetRequest([("user", Text(random, 1000, $"Request {id}. "))], $"cold-{id}", 32, null);
    }
}
