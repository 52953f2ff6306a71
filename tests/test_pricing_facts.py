"""upstream_facts/pricing/ is read from Karpenter's generated Go tables and the Spot Advisor feed, every row kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.generate.derive_pricing import (
    PRICING_DIR,
    karpenter_dir,
    on_demand,
    sources,
    spot_advisor,
    spot_date,
    vpc_limits,
)

PRICES_GO = """package pricing

// generated at 2026-07-06T14:20:29Z for us-east-1

var InitialOnDemandPricesAWS = map[string]map[ec2types.InstanceType]float64{
	// us-east-1
	"us-east-1": {
		// a1 family
		"a1.2xlarge": 0.204000, "a1.large": 0.051000,
		"m6i.large": 0.096000,
	},
	"us-gov-west-1": {
		"m6i.large": 0.121000,
	},
}
"""

LIMITS_GO = """// This file was generated at 2026-05-18T17:08:55Z

var Limits = map[string]*VPCLimits{
	"m6i.large": {
		Interface:               3,
		IPv4PerInterface:        10,
		IsTrunkingCompatible:    true,
		BranchInterface:         9,
		DefaultNetworkCardIndex: 0,
		NetworkCards: []NetworkCard{
			{
				MaximumNetworkInterfaces: 3,
				NetworkCardIndex:         0,
			},
		},
		Hypervisor:  "nitro",
		IsBareMetal: false,
	},
	"m6i.metal": {
		Interface:               15,
		IPv4PerInterface:        50,
		IsTrunkingCompatible:    true,
		BranchInterface:         107,
		DefaultNetworkCardIndex: 0,
		NetworkCards: []NetworkCard{
		},
		Hypervisor:  "",
		IsBareMetal: true,
	},
}
"""


def test_on_demand_rows_keep_every_region_type_and_price_text(tmp_path: Path) -> None:
    (tmp_path / "p.go").write_text(PRICES_GO)
    assert on_demand((tmp_path / "p.go").read_text(), "p.go") == {
        "generated_at": "2026-07-06T14:20:29Z",
        "regions": {
            "us-east-1": {"a1.2xlarge": "0.204000", "a1.large": "0.051000", "m6i.large": "0.096000"},
            "us-gov-west-1": {"m6i.large": "0.121000"},
        },
    }


def test_vpc_limits_keep_enis_addresses_branches_hypervisor_and_metal(tmp_path: Path) -> None:
    (tmp_path / "l.go").write_text(LIMITS_GO)
    assert vpc_limits((tmp_path / "l.go").read_text(), "l.go") == {
        "generated_at": "2026-05-18T17:08:55Z",
        "types": {"m6i.large": [3, 10, 9, "nitro", False], "m6i.metal": [15, 50, 107, "", True]},
    }


def test_spot_advisor_keeps_linux_rows_and_takes_its_date_from_the_manifest(tmp_path: Path) -> None:
    feed = {
        "instance_types": {"m6i.large": {"emr": True, "cores": 2, "ram_gb": 8.0}},
        "ranges": [{"index": 1, "label": "5-10%"}, {"index": 0, "label": "<5%"}],
        "spot_advisor": {"us-east-1": {"Linux": {"m6i.large": {"s": 63, "r": 1}}, "Windows": {"x.large": {}}}},
        "global_rate": "<10%",
    }
    (tmp_path / "f.json").write_text(json.dumps(feed))
    manifest = "... Its data date is taken as **2025-06-28**, the commit date ..."
    assert spot_advisor((tmp_path / "f.json").read_text(), spot_date(manifest)) == {
        "date": "2025-06-28",
        "bands": ["<5%", "5-10%"],
        "instance_types": {"m6i.large": [2, 8.0]},
        "regions": {"us-east-1": {"m6i.large": [63, 1]}},
    }
    with pytest.raises(SystemExit, match="no Spot Advisor data date"):
        spot_date("no date here")


def test_an_empty_or_undated_table_is_refused(tmp_path: Path) -> None:
    (tmp_path / "p.go").write_text(PRICES_GO.replace("// generated at", "// made at"))
    with pytest.raises(SystemExit, match="no '// generated at' line"):
        on_demand((tmp_path / "p.go").read_text(), "p.go")
    (tmp_path / "p.go").write_text("// generated at 2026-07-06T14:20:29Z for us-east-1\n")
    with pytest.raises(SystemExit, match="no prices read"):
        on_demand((tmp_path / "p.go").read_text(), "p.go")


def test_the_pricing_notice_names_every_source_quotes_karpenters_notice_and_the_feeds_owner() -> None:
    text = (Path(__file__).resolve().parent.parent / "upstream_facts" / PRICING_DIR / "NOTICE").read_text()
    assert text.count("[Apache-2.0]") == len(sources())
    for rel in sources():
        assert f"): {rel.split('/', 3)[3]} [Apache-2.0]" in text, rel
    assert "is AWS's data" in text
    assert f"The NOTICE file of {karpenter_dir().split('/', 1)[1]} reads:" in text
