"""Critical infrastructure: interdependent networks, damage, cascades and criticality.

``load_infra_case`` reads an interdependent case (layers, nodes, links, dependencies, geographic
spaces, repair resources, damage scenarios) into tidy tables; see docs/infra.md.
"""

from resiliopt.infra.case import InfraCase, bundled_infra_cases, load_infra_case, resolve_infra_case

__all__ = ["InfraCase", "bundled_infra_cases", "load_infra_case", "resolve_infra_case"]
