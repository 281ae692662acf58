"""Conversation context: follow-ups ("same dates for Bob") resolved against earlier turns.

:mod:`.carryover` holds the rules (pure), :mod:`.store` keeps the state in Redis.
"""

from nlp_service.context.carryover import Resolution, is_follow_up, is_fragment, resolve
from nlp_service.context.conversation import (
    Conversation,
    Turn,
    UnknownConversationError,
    validate_conversation_id,
)
from nlp_service.context.store import AsyncConversationStore, ConversationBusyError, ConversationStore

__all__ = [
    "AsyncConversationStore",
    "Conversation",
    "ConversationBusyError",
    "ConversationStore",
    "Resolution",
    "Turn",
    "UnknownConversationError",
    "is_follow_up",
    "is_fragment",
    "resolve",
    "validate_conversation_id",
]
