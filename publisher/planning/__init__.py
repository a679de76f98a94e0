"""Planning: the campaign calendar's slots, and which item goes where and when."""
