package kcrm.opensearch;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.painless.PainlessPlugin;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;

/**
 * Starts one OpenSearch node from the class path, the way the distribution's bootstrap does.
 *
 * <p>Why: the Maven Central artifacts carry no launcher script. This main prepares the
 * environment from {@code path.home} and the node's config folder (opensearch.yml,
 * log4j2.properties), names the node for log4j before configuring it, and builds a
 * {@link Node} with the four plugins on the class path. A shutdown hook closes the node on
 * SIGTERM so shards are flushed; SIGKILL is what the fault tests use.
 *
 * <p>Usage: {@code java -cp lib/* kcrm.opensearch.KcrmNode HOME CONFIG_DIR}
 */
public final class KcrmNode {

    /** The k-NN plugin ships as a zip (unpacked into lib/ at install), so it is loaded by name. */
    private static final String KNN_PLUGIN = "org.opensearch.knn.plugin.KNNPlugin";

    /** Exposes Node's protected constructor that takes plugin classes from the class path. */
    private static final class PluginNode extends Node {
        PluginNode(Environment environment, Collection<Class<? extends Plugin>> plugins) {
            super(environment, plugins, true);
        }
    }

    private KcrmNode() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: KcrmNode HOME CONFIG_DIR");
            System.exit(64);
        }
        Path home = Paths.get(args[0]).toAbsolutePath();
        Path config = Paths.get(args[1]).toAbsolutePath();
        Settings input = Settings.builder().put("path.home", home.toString()).build();
        Environment environment = InternalSettingsPreparer.prepareEnvironment(
            input, Collections.emptyMap(), config, () -> "kcrm-node");
        LogConfigurator.registerErrorListener();
        LogConfigurator.setNodeName(Node.NODE_NAME_SETTING.get(environment.settings()));
        LogConfigurator.configure(environment);
        List<Class<? extends Plugin>> plugins = List.of(Netty4Plugin.class, CommonAnalysisPlugin.class,
            PainlessPlugin.class, Class.forName(KNN_PLUGIN).asSubclass(Plugin.class));
        Node node = new PluginNode(environment, plugins);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                stopped.countDown();
            }
        }, "kcrm-node-shutdown"));
        node.start();
        System.out.println("kcrm: node started");
        stopped.await();
    }
}
