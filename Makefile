# Two commands do all the set-up on a fresh machine:
#   make run    installs everything into .venv and starts the server (port 5000, ./chat-data)
#   make test   installs everything into .venv and runs the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
ARGS   ?=

.PHONY: run test install bench clean screenshots web-screenshots qt

# What Qt needs of the system (offscreen tests), a virtual screen and CJK fonts (screenshots),
# tmux (the terminal client's full-screen tests), chromium and its driver (the browser
# client's tests: headless, driven by selenium; nothing downloads a browser), nodejs (the
# browser client's modules unit-tested with node --test), postgresql (the PostgreSQL storage's
# tests start private clusters with its initdb and pg_ctl, never the package's own).
SYSTEM_PACKAGES := libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libxcb-cursor0 \
                   libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-xkb1 \
                   libxkbcommon-x11-0 libxcb-shape0 libxcb-randr0 libxcb-xinerama0 \
                   xvfb xauth fonts-noto-cjk fonts-noto-color-emoji tmux \
                   chromium chromium-driver nodejs postgresql

# apt-get waits for dpkg's lock instead of failing at once when another install runs
APT := apt-get -o DPkg::Lock::Timeout=300

install: $(VENV)/.installed

# System packages first (only what is missing, only when we can: apt-get as root). apt-get
# waits up to 5 minutes for dpkg's lock (another install running) and is tried three times;
# if it still fails the step stays unmarked, so the next make tries again.
# (again when this Makefile changes: a package added here is installed on machines set up before)
$(VENV)/.system: Makefile
	@if ! $(PYTHON) -c 'import venv, ensurepip' >/dev/null 2>&1; then \
	    echo "installing python3-venv"; \
	    $(APT) update && $(APT) install -y python3-venv python3-pip; \
	fi
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	ok=1; \
	if [ -n "$$missing" ] && command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    echo "installing $$missing"; \
	    ok=0; \
	    for attempt in 1 2 3; do \
	        if $(APT) update -qq && DEBIAN_FRONTEND=noninteractive $(APT) install -y -qq $$missing; \
	        then ok=1; break; fi; \
	        echo "apt-get failed (attempt $$attempt of 3; dpkg busy?), trying again in 10 s"; \
	        sleep 10; \
	    done; \
	    [ $$ok = 1 ] || echo "warning: could not install $$missing (the Qt tests need the" \
	        "libraries); make will try again next time"; \
	fi; \
	$(PYTHON) -m venv $(VENV) && if [ $$ok = 1 ]; then touch $@; fi

# An editable install (the default mode: no setuptools mode that is to be removed), plus a
# .pth file naming this folder: Twisted's plugin system looks for twisted/plugins/ under every
# sys.path entry, which is how twistd finds twisted/plugins/chatserver.py. A non-editable
# `pip install .` installs the plugin file into twisted/plugins/ itself and needs no .pth.
$(VENV)/.installed: $(VENV)/.system setup.cfg pyproject.toml
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	echo "$(CURDIR)" > "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/chat-plugins.pth"
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

web-screenshots: install
	QT_QPA_PLATFORM=offscreen $(BIN)/python tools/web_screenshots.py

bench: install
	$(BIN)/python bench/fanout.py
	$(BIN)/python bench/store_rate.py
	$(BIN)/python bench/idle_memory.py
	$(BIN)/python bench/login_storm.py
	$(BIN)/python bench/files.py
	$(BIN)/python bench/page_cache.py
	$(BIN)/python bench/prelogin_memory.py
	$(BIN)/python bench/qt_startup.py

clean:
	rm -rf $(VENV) build *.egg-info _trial_temp* twisted/plugins/dropin.cache
