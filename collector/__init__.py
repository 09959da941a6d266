"""District-side collector: stores what agents stream and answers queries."""
