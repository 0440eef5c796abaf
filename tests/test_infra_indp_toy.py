"""Hand-built interdependent cases for the INDP tests (helpers only, no tests here).

The tables follow the InfraCase contract (docs/indp.md): the tests do not depend on the
bundled data or its converter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd


@dataclass
class ToyCase:
    name: str
    layers: pd.DataFrame
    nodes: pd.DataFrame
    links: pd.DataFrame
    dependencies: pd.DataFrame
    spaces: pd.DataFrame
    element_spaces: pd.DataFrame
    resources: pd.DataFrame
    damage: dict = field(default_factory=dict)
    failure_probability: pd.DataFrame | None = None

    def source_file(self, table) -> Path:
        return Path(f"<toy {self.name}>/{table}")


def _node(layer, node, demand, tier=2, repair_cost=10.0, resource_use=1.0, over=1000.0, under=100.0):
    return dict(
        layer=layer,
        node=node,
        demand=demand,
        repair_cost=repair_cost,
        repair_time=1,
        resource_use=resource_use,
        oversupply_penalty=over,
        unmet_penalty=under,
        tier=tier,
        population=0,
        x=0.0,
        y=0.0,
    )


def _link(layer, link, a, b, cost=1.0, repair_cost=5.0, capacity=20.0, resource_use=1.0):
    return {
        "layer": layer,
        "link": link,
        "from": a,
        "to": b,
        "capacity": capacity,
        "flow_cost": cost,
        "repair_cost": repair_cost,
        "repair_time": 1,
        "resource_use": resource_use,
        "two_way": True,
    }


def toy_case(v: float = 2.0, rule_layers=("power", "water")) -> ToyCase:
    """Power (P1 supplies 10; P2, P3 demand 4, 6) and water (W1 supplies 8; W2, W3 demand 5,
    3); the water source W1 needs power from P2; two geographic spaces."""
    nodes = pd.DataFrame(
        [
            _node("power", "P1", 10.0, repair_cost=20.0),
            _node("power", "P2", -4.0, tier=1),
            _node("power", "P3", -6.0, under=150.0),
            _node("water", "W1", 8.0, repair_cost=15.0),
            _node("water", "W2", -5.0, tier=1),
            _node("water", "W3", -3.0, under=80.0),
        ]
    )
    links = pd.DataFrame(
        [
            _link("power", "p12", "P1", "P2", cost=1.0, repair_cost=6.0),
            _link("power", "p13", "P1", "P3", cost=2.0, repair_cost=9.0),
            _link("power", "p23", "P2", "P3", cost=1.5, repair_cost=4.0, capacity=5.0),
            _link("water", "w12", "W1", "W2", cost=1.0, repair_cost=7.0),
            _link("water", "w13", "W1", "W3", cost=1.0, repair_cost=3.0),
            _link("water", "w23", "W2", "W3", cost=0.5, repair_cost=2.0),
        ]
    )
    deps = pd.DataFrame(
        [
            dict(
                dependee_layer="power",
                dependee="P2",
                depender_layer="water",
                depender="W1",
                type="physical",
                loss=1.0,
            ),
            dict(
                dependee_layer="water",
                dependee="W2",
                depender_layer="power",
                depender="P3",
                type="cyber",
                loss=1.0,
            ),
        ]
    )
    spaces = pd.DataFrame([dict(space="s1", preparation_cost=12.0), dict(space="s2", preparation_cost=30.0)])
    es = pd.DataFrame(
        [
            dict(kind="link", layer="power", element="p12", space="s1"),
            dict(kind="link", layer="water", element="w12", space="s1"),
            dict(kind="node", layer="power", element="P3", space="s2"),
            dict(kind="link", layer="power", element="p13", space="s2"),
        ]
    )
    layers = pd.DataFrame(
        [
            dict(layer="power", commodity="electricity", unit="MW"),
            dict(layer="water", commodity="water", unit="kgal/h"),
        ]
    )
    res = pd.DataFrame([dict(resource="crew", per_period=v)])
    fp = pd.DataFrame(
        [dict(magnitude=6, kind="node", layer=r.layer, element=r.node, p=0.3) for r in nodes.itertuples()]
        + [dict(magnitude=6, kind="link", layer=r.layer, element=r.link, p=0.25) for r in links.itertuples()]
    )
    return ToyCase("toy", layers, nodes, links, deps, spaces, es, res, failure_probability=fp)


#: a damage that needs several periods with v = 2
TOY_DAMAGE = pd.DataFrame(
    [
        ("node", "power", "P1"),
        ("node", "water", "W1"),
        ("link", "power", "p12"),
        ("link", "water", "w12"),
        ("node", "power", "P3"),
        ("link", "power", "p13"),
    ],
    columns=["kind", "layer", "element"],
)
