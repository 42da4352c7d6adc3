"""The twistd plugin and its options."""

import gc
import io
import os
import shutil
import socket
import sys
import tempfile

from twisted.application.service import IServiceMaker
from twisted.internet import defer
from twisted.internet.error import ReactorNotRunning
from twisted.plugin import getPlugins
from twisted.trial import unittest

from chat.server import collector, tap
from chat.server.core import RecordedStop


class PluginTests(unittest.TestCase):
    def temp_dir(self) -> str:
        # not self.mktemp(): under pytest that would be a folder inside the source tree
        path = tempfile.mkdtemp(prefix="chat-plugin-test-")
        self.addCleanup(shutil.rmtree, path, True)
        return path

    def in_temp_cwd(self) -> str:
        path = self.temp_dir()
        self.addCleanup(os.chdir, os.getcwd())
        os.chdir(path)
        return path

    def test_chatserver_is_an_installed_plugin(self):
        makers = {maker.tapname: maker for maker in getPlugins(IServiceMaker)}
        self.assertIn("chatserver", makers)
        self.assertEqual(makers["chatserver"].module, tap.__name__)

    def test_defaults(self):
        self.in_temp_cwd()
        options = tap.Options()
        options.parseOptions([])
        self.assertEqual(options["port"], ["tcp:5000"])
        self.assertEqual(options["data-dir"], "chat-data")
        self.assertEqual(options["db"], os.path.join("chat-data", "chat_server.db"))
        self.assertFalse(options["lite"])
        self.assertTrue(os.path.isdir("chat-data"))

    def test_repeatable_options(self):
        data_dir = os.path.join(self.temp_dir(), "data")
        options = tap.Options()
        options.parseOptions(["--port", "tcp:5001", "-p", "tcp:5002:interface=127.0.0.1",
                              "--admin", "Ａlice", "--admin", "张伟", "--data-dir", data_dir])
        self.assertEqual(options["port"], ["tcp:5001", "tcp:5002:interface=127.0.0.1"])
        self.assertEqual(options["admin"], ["Alice", "张伟"])
        self.assertTrue(os.path.isdir(data_dir))

    def test_bad_values_exit_with_one_line(self):
        not_a_dir = os.path.join(self.temp_dir(), "file")
        open(not_a_dir, "w").close()
        for argv in (["--port", "nonsense:xyz"], ["--port", "tcp:notaport"],
                     ["--admin", "bad name"], ["--data-dir", not_a_dir],
                     ["--hash-time", "x"], ["--unknown"]):
            with self.assertRaises(SystemExit) as caught:
                tap.Options().parseOptions(argv)
            message = str(caught.exception.code)
            self.assertTrue(message.startswith("chatserver: error: "), message)
            self.assertNotIn("\n", message)
            self.assertNotIn("could not convert", message)   # Python's words, not ours
        with self.assertRaises(SystemExit) as caught:
            tap.Options().parseOptions(["--partial-ttl", "abc"])
        self.assertEqual("chatserver: error: bad --partial-ttl: 'abc' is not a positive "
                         "number of seconds", str(caught.exception.code))

    def test_hello_says_monitoring_as_a_boolean(self):
        # twistd keeps flags as 0/1; PROTOCOL.md shows "monitoring": false
        data_dir = os.path.join(self.temp_dir(), "data")
        for argv, expected in (([], False), (["--allow-monitoring"], True)):
            options = tap.Options()
            options.parseOptions(["--data-dir", data_dir] + argv)
            server = tap.makeService(options).server
            self.assertIs(server.config.monitoring, expected)

    def test_file_options(self):
        data_dir = os.path.join(self.temp_dir(), "data")
        options = tap.Options()
        options.parseOptions(["--data-dir", data_dir])
        config = tap.makeService(options).server.config
        self.assertEqual((config.max_file_size, config.quota, config.partial_ttl),
                         (100 * 2**20, 2**30, 86400.0))
        self.assertEqual(config.files_dir, os.path.join(data_dir, "files"))
        options = tap.Options()
        options.parseOptions(["--data-dir", data_dir, "--max-file-size", "2G", "--quota", "500k",
                              "--partial-ttl", "60"])
        config = tap.makeService(options).server.config
        self.assertEqual((config.max_file_size, config.quota, config.partial_ttl),
                         (2 * 2**30, 500 * 1024, 60.0))
        options = tap.Options()
        options.parseOptions(["--lite", "--data-dir", data_dir, "--file-ttl", "90",
                              "--max-file-size", "12345"])
        config = tap.makeService(options).server.config
        self.assertEqual((config.files_dir, config.file_ttl, config.max_file_size),
                         (None, 90.0, 12345))

    def test_parse_size(self):
        for text, value in (("0", 0), ("17", 17), ("1K", 1024), ("3m", 3 * 2**20),
                            ("2G", 2 * 2**30), ("10MiB", 10 * 2**20), (" 5 M ", 5 * 2**20)):
            self.assertEqual(tap.parse_size(text), value, text)
        for bad in ("", "M", "1T", "-1", "1.5G", "ten"):
            self.assertRaises(ValueError, tap.parse_size, bad)

    def test_bad_file_options_exit_with_one_line(self):
        data_dir = self.temp_dir()
        for argv in (["--max-file-size", "lots"], ["--quota", "1T"], ["--partial-ttl", "0"],
                     ["--partial-ttl", "x"], ["--file-ttl", "60"],
                     ["--lite", "--file-ttl", "-5"]):
            with self.assertRaises(SystemExit) as caught:
                tap.Options().parseOptions(["--data-dir", data_dir] + argv)
            message = str(caught.exception.code)
            self.assertTrue(message.startswith("chatserver: error: "), message)
            self.assertNotIn("\n", message)
            self.assertNotIn("could not convert", message)   # Python's words, not ours
        with self.assertRaises(SystemExit) as caught:
            tap.Options().parseOptions(["--data-dir", data_dir, "--partial-ttl", "abc"])
        self.assertIn("bad --partial-ttl: 'abc' is not a positive number of seconds",
                      str(caught.exception.code))

    def test_lite_makes_no_files(self):
        data_dir = os.path.join(self.temp_dir(), "unused")
        options = tap.Options()
        options.parseOptions(["--lite", "--data-dir", data_dir])
        self.assertFalse(os.path.exists(data_dir))
        service = tap.makeService(options)
        self.assertFalse(service.server.config.persistent)

    def test_allow_monitoring(self):
        data_dir = os.path.join(self.temp_dir(), "unused")
        options = tap.Options()
        options.parseOptions(["--lite", "--data-dir", data_dir])
        self.assertFalse(options["allow-monitoring"])
        self.assertFalse(tap.makeService(options).server.config.monitoring)
        options = tap.Options()
        options.parseOptions(["--lite", "--allow-monitoring", "--data-dir", data_dir])
        self.assertTrue(options["allow-monitoring"])
        server = tap.makeService(options).server
        self.assertTrue(server.config.monitoring)
        self.assertNotIsInstance(server.request_stop, RecordedStop)  # wired to the reactor

    def test_reactor_stopper(self):
        class FakeReactor:
            running = True
            stops = 0

            def stop(self):
                if not self.running:
                    raise ReactorNotRunning()
                self.stops += 1
                self.running = False
        reactor = FakeReactor()
        stop = tap.reactor_stopper(reactor)
        stop()
        self.assertEqual(reactor.stops, 1)
        stop()  # stopping already: harmless
        self.assertEqual(reactor.stops, 1)

    def test_unusable_database_is_a_one_line_exit_before_listening(self):
        data_dir = self.temp_dir()
        with open(os.path.join(data_dir, "chat_server.db"), "wb") as f:
            f.write(b"garbage" * 1000)
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        options = tap.Options()
        options.parseOptions(["--data-dir", data_dir, "--port", f"tcp:{port}:interface=127.0.0.1"])
        service = tap.makeService(options)
        stderr = io.StringIO()
        self.patch(sys, "__stderr__", stderr)
        with self.assertRaises(SystemExit) as caught:
            service.privilegedStartService()
        self.assertEqual(caught.exception.code, 1)
        self.assertEqual(stderr.getvalue().count("\n"), 1)
        self.assertIn("cannot use the database", stderr.getvalue())
        self.assertIn("not a database", stderr.getvalue())
        self.assertEqual(service.ports, [])  # nothing was left listening

    def test_service_freezes_when_ready_before_accepting(self):
        # start-up objects leave the collector's sight before the first connection (collector.py)
        order = []
        accepting = defer.Deferred()
        options = tap.Options()
        options.parseOptions(["--lite", "--data-dir", os.path.join(self.temp_dir(), "unused"),
                              "--port", "tcp:0:interface=127.0.0.1"])
        service = tap.makeService(options)
        self.patch(tap, "freeze_startup_objects", lambda: order.append("freeze"))
        service.privilegedStartService()
        port = service.ports[0]
        real_start = port.startReading

        def start_reading():
            order.append("accept")
            real_start()
            accepting.callback(None)
        self.patch(port, "startReading", start_reading)
        service.startService()
        self.addCleanup(service.stopService)
        return accepting.addCallback(lambda _: self.assertEqual(order, ["freeze", "accept"]))


class StartupObjectsTests(unittest.TestCase):
    """What start-up made is frozen out of the cyclic collector once the server is ready."""

    def test_freeze_collects_first_then_freezes(self):
        calls = []

        class Collector:
            def collect(self):
                calls.append("collect")

            def freeze(self):
                calls.append("freeze")

            def get_freeze_count(self):
                return 123
        self.assertEqual(collector.freeze_startup_objects(Collector()), 123)
        self.assertEqual(calls, ["collect", "freeze"])

    def test_real_collector_freezes_what_exists(self):
        self.addCleanup(gc.unfreeze)
        before = gc.get_freeze_count()
        frozen = collector.freeze_startup_objects()
        self.assertGreater(frozen, before)
        self.assertEqual(gc.get_freeze_count(), frozen)
