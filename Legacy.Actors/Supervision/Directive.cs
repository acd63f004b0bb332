namespace Legacy.Actors.Supervision;

/// <summary>What a supervisor does with a child that threw.</summary>
public enum Directive
{
    /// <summary>Keep the instance and its state; drop the message that failed.</summary>
    Resume,

    /// <summary>Replace the instance (state reset) after the backoff delay; queued messages are kept.</summary>
    Restart,

    /// <summary>Stop the child.</summary>
    Stop,

    /// <summary>Fail the supervisor itself with the same exception.</summary>
    Escalate,
}
