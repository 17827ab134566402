"""Smart intake (智能派单): suggest a category and department from a request's words,
learned from closed cases; urgency hints; auto-routing above a threshold."""
