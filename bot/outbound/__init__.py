"""Everything the line sends: outbound texts, their scheduling, transport and campaigns."""
