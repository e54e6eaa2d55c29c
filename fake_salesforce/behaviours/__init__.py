"""Per-object behaviour that the schema cannot say as data, one small module per behaviour.

The schema declares what it can (composed names, closed-state flags and stamps, cascades,
searchability: see ``schema/standard.yaml``). What remains is code: each module here holds one
``Behaviour`` and the org runs them, for the objects each names, in the fixed order of
``BEHAVIOURS``. The hooks, in the order a write meets them:

``check``         refuse a write before its values are read (``old``: the stored row, None on create)
``required``      names of fields missing for this record beyond the schema's ``required``
``derive``        set derived fields on the row about to be written (after the schema's own)
``referenced``    refuse a reference to a record of this object (a converted Lead, ...)
``after_write``   side effects once the row is stored: other records created or kept in step
``before_delete`` refuse a delete

The org calls a hook only on the behaviours that implement it, and a create skips the ``check``
of a behaviour that says ``checks_creates = False`` (one that refuses updates only).
"""
from .activities import Activities
from .base import Behaviour
from .cases import Cases
from .leads import ConvertedLeads
from .opportunity_contact_roles import OpportunityContactRoles
from .person_accounts import PersonAccounts, PersonContacts

# The order the org runs them in.
BEHAVIOURS: tuple[Behaviour, ...] = (PersonAccounts(), PersonContacts(), ConvertedLeads(), Cases(),
                                     Activities(), OpportunityContactRoles())

__all__ = ["BEHAVIOURS", "Behaviour"]
