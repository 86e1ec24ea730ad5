"""A tour of the Python SDK: prices into pandas, on-peak averages, a basis, a quality check.

    CARBON254_URL=http://127.0.0.1:8000 CARBON254_API_KEY=c254_... python examples/sdk_quickstart.py
    python examples/sdk_quickstart.py --local carbon254-data     # no server: the embedded store

Runs against the demo (`carbon254 demo`) or any service holding PJM
day-ahead prices for the last month. Every window is relative to today
(`today-30d`), so the tour asks for recent data whenever it runs.
"""

from __future__ import annotations

import argparse

from carbon254.client import Client, NotFound


def main() -> None:
    """Fetch a month of hub prices, on-peak days, a node-to-hub basis, and summarise data quality."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--local", metavar="DATA_DIR", help="read this embedded store in process")
    args = parser.parse_args()
    client = Client.local(args.local) if args.local else Client()  # URL and key from the environment
    with client:
        # 1. The last 30 days of day-ahead LMPs at two hubs, in PJM's market time.
        hubs = client.lmp(
            iso="PJM",
            market="DAM",
            locations=["WESTERN HUB", "AEP-DAYTON HUB"],
            start="today-30d",
            end="today",
            tz="iso",
        )
        average = hubs.groupby("location", observed=True)["lmp"].mean().round(2)
        print("30-day average LMP ($/MWh):", average.to_dict())

        # 2. On-peak daily averages of the last two weeks: the service resamples and filters by block.
        onpeak = client.lmp(
            iso="PJM",
            market="DAM",
            locations="WESTERN HUB",
            start="today-14d",
            end="today",
            tz="iso",
            resample="daily",
            block="onpeak",
        )
        print("on-peak days:", len(onpeak))

        # 3. A node's basis to its hub over the last week: node minus hub, interval by interval.
        nodes = client.locations(iso="PJM", type="node")
        node = str(nodes["location"].iloc[0])
        basis = client.spreads(
            iso="PJM", market="DAM", location=node, minus="WESTERN HUB", start="today-7d", end="today"
        )
        print(f"basis {node} - WESTERN HUB: mean {basis['spread'].mean():.2f} $/MWh over {len(basis)} hours")

        # 4. Names are checked: a typo is a NotFound with suggestions.
        try:
            client.lmp(iso="PJM", market="DAM", locations="WESTERN HUBB", start="today-1d", end="today")
        except NotFound as error:
            print("suggestions:", list(error.suggestions)[:3])

        # 5. How complete is the data? The last seven market days.
        report = client.quality(iso="PJM", start="today-7d", end="today")
        dam = next(s for s in report.summary if s.market == "DAM")
        print(f"DAM completeness: {dam.completeness:.0%} over {dam.days} days")


if __name__ == "__main__":
    main()
