"""The audit agent: answers "who approved INV-1042?" from the audit log, and keeps the log honest
(its hash chain verified by an asset check, :mod:`.chain`)."""
