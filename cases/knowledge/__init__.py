"""The knowledge base: answers that staff write, review and publish (issue 11).

Citizens read published answers on the public help page ``/help`` and while they type a
new request; an answer read from the filing page by someone who then leaves without
filing counts as a deflected request. Searched through ``search`` like everything else.
"""
