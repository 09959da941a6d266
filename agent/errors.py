"""The agent's errors: one base, so callers can catch everything the agent raises."""


class AgentError(Exception):
    """Base of every error the agent raises on purpose."""


class ConfigError(AgentError):
    """The configuration (file or command line) is unusable; the message names file, key and value."""


class ScanError(AgentError):
    """A scanner could not complete; other scanners still run."""


class ScanRefusedError(ScanError):
    """A scan was not started because it breaks a configured limit (e.g. a subnet that is too large)."""


class SinkUnavailableError(AgentError):
    """The collector cannot be reached right now; the caller retries with backoff."""


class SnmpError(ScanError):
    """One SNMP device could not be read (or part of it); the message names the device and what happened.

    Raised per device or per table: the SNMP scanner records it against that
    device and goes on with the next one.
    """


class MalformedPacketError(SnmpError):
    """Bytes from the network are not a well-formed SNMP message."""


class SnmpTimeoutError(SnmpError):
    """The device did not answer within the timeout and retries."""
