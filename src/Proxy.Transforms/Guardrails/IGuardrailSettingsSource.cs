namespace Proxy.Transforms.Guardrails;

/// <summary>The guardrails in force now; the host derives them from the current config snapshot.</summary>
public interface IGuardrailSettingsSource
{
    GuardrailSettings Current { get; }
}
