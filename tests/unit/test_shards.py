"""The shard-key table is complete and the commands that shard a cluster follow it."""

from __future__ import annotations

from store.database import Collections
from store.shards import HASHED, SHARDS, indexes, shard_commands


def test_every_collection_has_a_placement_with_a_reason():
    names = {v for k, v in vars(Collections).items() if not k.startswith("_")}
    assert names == set(SHARDS)
    assert all(placement.why for placement in SHARDS.values())


def test_the_shard_commands_shard_exactly_the_collections_with_a_key():
    [enable, *shard] = shard_commands("audience")
    assert enable == {"enableSharding": "audience"}
    assert {c["shardCollection"]: c["key"] for c in shard} == {
        f"audience.{name}": dict(p.key) for name, p in SHARDS.items() if p.key}
    assert {"shardCollection": "audience.events", "key": {"_id": HASHED}} in shard


def test_a_ranged_shard_key_has_its_index():
    for name, placement in SHARDS.items():
        key = dict(placement.key or ())
        if key and HASHED not in key.values() and key != {"_id": 1}:
            assert key in [ix.document["key"] for ix in indexes(name)], name
