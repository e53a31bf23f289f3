"""A deterministic, synthetic history of one municipality's re-integration trajectories,
for the demo, the tests and the benchmarks.

    history = generate(seed=1, clients=60, operator_key=ledger.settings.operator_key,
                       pseudonymise=ledger.pseudonym)
    for item in [*history.registry, *history.submissions]:
        receipt = ledger.submit(item.envelope)
        # receipt.verdict == item.expected_verdict; refusals name item.expected_rule

Parties: the operator (the ledger's own key), two funders (gemeente-haarlem, uwv), five
providers and an auditor with a mandate for both funders. Keys are derived from the seed.
"""

from ledger.synthetic.history import Client, History, Submissions, generate
from ledger.synthetic.item import Item
from ledger.synthetic.parties import AUDITOR, MUNICIPALITY, PROVIDERS, UWV, Party, derive_key

__all__ = [
    "AUDITOR",
    "MUNICIPALITY",
    "PROVIDERS",
    "UWV",
    "Client",
    "History",
    "Item",
    "Party",
    "Submissions",
    "derive_key",
    "generate",
]
