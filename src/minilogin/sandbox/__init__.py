"""A local WeChat: the server API on WeChat's own paths, simulated phones and users, and a
page that plays the mini program, so the whole scan-code login runs on one machine."""
