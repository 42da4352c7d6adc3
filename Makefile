# Two commands do all the set-up on a fresh machine:
#   make run    installs everything into .venv and starts the server (port 5000, ./chat-data)
#   make test   installs everything into .venv and runs the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
ARGS   ?=

.PHONY: run test install bench clean screenshots qt

# What Qt needs of the system (offscreen tests), a virtual screen and CJK fonts (screenshots),
# tmux (the terminal client's full-screen tests).
SYSTEM_PACKAGES := libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libxcb-cursor0 \
                   libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-xkb1 \
                   libxkbcommon-x11-0 libxcb-shape0 libxcb-randr0 libxcb-xinerama0 \
                   xvfb xauth fonts-noto-cjk fonts-noto-color-emoji tmux

install: $(VENV)/.installed

# System packages first (only what is missing, only when we can: apt-get as root).
$(VENV)/.system:
	@if ! $(PYTHON) -c 'import venv, ensurepip' >/dev/null 2>&1; then \
	    echo "installing python3-venv"; \
	    apt-get update && apt-get install -y python3-venv python3-pip; \
	fi
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ] && command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    echo "installing $$missing"; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; } \
	    || echo "warning: could not install $$missing (the Qt tests need the libraries)"; \
	fi
	$(PYTHON) -m venv $(VENV)
	touch $@

# editable_mode=compat puts the source tree on sys.path, which is what lets Twisted's plugin
# system find twisted/plugins/chatserver.py (a plain `pip install -e .` does not).
$(VENV)/.installed: $(VENV)/.system setup.cfg pyproject.toml
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]' --config-settings editable_mode=compat
	touch $@

run: install
	$(BIN)/twistd -n chatserver $(ARGS)

# Two pytest processes: the Qt tests install the Qt reactor, everything else runs on the default one.
test: install
	$(BIN)/python -m pytest -q --ignore=tests/qt
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q tests/qt

qt: install
	$(BIN)/chat-qt $(ARGS)

screenshots: install
	xvfb-run -a -s "-screen 0 1400x900x24" $(BIN)/python tools/screenshots.py

bench: install
	$(BIN)/python bench/fanout.py
	$(BIN)/python bench/store_rate.py
	$(BIN)/python bench/idle_memory.py
	$(BIN)/python bench/login_storm.py
	$(BIN)/python bench/files.py
	$(BIN)/python bench/page_cache.py

clean:
	rm -rf $(VENV) build *.egg-info _trial_temp* twisted/plugins/dropin.cache
