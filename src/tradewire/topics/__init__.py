"""Topics are part of the contract: declared in `tradewire.yaml`, planned, applied and checked for drift.

Each event's topic gets its partitions, replication factor, `min.insync.replicas`,
retention, cleanup policy and largest record from `topics` in `tradewire.yaml` (defaults,
per domain, per event; see `tradewire.config.TopicsConfig`). `contract_topics` turns that
into one `TopicSpec` per event for a given cluster, `plan` compares the specs with what the
cluster has, `TopicAdmin` reads and changes the cluster, and `drift` names every difference,
including topics no contract declares. `tradewire topics plan | apply | drift` is the
command; `ensure_contract_topics` is the one call the dev stack, the harness and the tests use.
"""

from tradewire.topics.admin import (
    CLIENT_CONFIG_PREFIXES,
    Applied,
    ClusterState,
    Synced,
    TopicAdmin,
    ensure_contract_topics,
)
from tradewire.topics.contract import (
    MANAGED_CONFIGS,
    Cap,
    TopicSpec,
    check_prefix,
    contract_topics,
    domain_of,
    events_of_catalog,
    events_of_contracts,
)
from tradewire.topics.plan import Change, ObservedTopic, Plan, TopicDrift, TopicPlan, drift, plan

__all__ = [
    "CLIENT_CONFIG_PREFIXES",
    "MANAGED_CONFIGS",
    "Applied",
    "Cap",
    "Change",
    "ClusterState",
    "ObservedTopic",
    "Plan",
    "Synced",
    "TopicAdmin",
    "TopicDrift",
    "TopicPlan",
    "TopicSpec",
    "check_prefix",
    "contract_topics",
    "domain_of",
    "drift",
    "ensure_contract_topics",
    "events_of_catalog",
    "events_of_contracts",
    "plan",
]
