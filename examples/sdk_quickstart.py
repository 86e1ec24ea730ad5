"""A tour of the Python SDK: prices into pandas, a basis, a quality check.

    CARBON254_URL=http://127.0.0.1:8000 CARBON254_API_KEY=c254_... python examples/sdk_quickstart.py
    python examples/sdk_quickstart.py --local carbon254-data     # no server: the embedded store

Runs against the demo (`carbon254 demo`) or any service holding PJM
day-ahead prices for January 2024.
"""

from __future__ import annotations

import argparse

import pandas as pd

from carbon254.client import Client, NotFound


def main() -> None:
    """Fetch a month of hub prices, compute a node-to-hub basis and summarise data quality."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--local", metavar="DATA_DIR", help="read this embedded store in process")
    args = parser.parse_args()
    client = Client.local(args.local) if args.local else Client()  # URL and key from the environment
    with client:
        # 1. A month of day-ahead LMPs at two hubs, in PJM's market time.
        hubs = client.lmp(
            iso="PJM",
            market="DAM",
            locations=["WESTERN HUB", "AEP-DAYTON HUB"],
            start="2024-01-01",
            end="2024-02-01",
            tz="iso",
        )
        monthly = hubs.groupby("location", observed=True)["lmp"].mean().round(2)
        print("January average LMP ($/MWh):", monthly.to_dict())

        # 2. On-peak daily averages: the service resamples and filters by block.
        onpeak = client.lmp(
            iso="PJM",
            market="DAM",
            locations="WESTERN HUB",
            start="2024-01-01",
            end="2024-01-08",
            tz="iso",
            resample="daily",
            block="onpeak",
        )
        print("on-peak days:", len(onpeak))

        # 3. A node's basis to its hub: node minus hub, interval by interval.
        nodes = client.locations(iso="PJM", type="node")
        node = str(nodes["location"].iloc[0])
        both = client.lmp(
            iso="PJM", market="DAM", locations=[node, "WESTERN HUB"], start="2024-01-01", end="2024-01-08"
        )
        wide = both.pivot(index="interval_start", columns="location", values="lmp")
        basis: pd.Series = wide[node] - wide["WESTERN HUB"]
        print(f"basis {node} - WESTERN HUB: mean {basis.mean():.2f} $/MWh over {len(basis)} hours")

        # 4. Names are checked: a typo is a NotFound with suggestions.
        try:
            client.lmp(
                iso="PJM", market="DAM", locations="WESTERN HUBB", start="2024-01-01", end="2024-01-02"
            )
        except NotFound as error:
            print("suggestions:", list(error.suggestions)[:3])

        # 5. How complete is the data?
        report = client.quality(iso="PJM", start="2024-01-01", end="2024-01-08")
        dam = next(s for s in report.summary if s.market == "DAM")
        print(f"DAM completeness: {dam.completeness:.0%} over {dam.days} days")


if __name__ == "__main__":
    main()
