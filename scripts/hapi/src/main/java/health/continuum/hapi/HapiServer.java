package health.continuum.hapi;

import ca.uhn.fhir.rest.server.RestfulServer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;

/**
 * A HAPI FHIR JPA R4 server on 127.0.0.1, its data in an H2 file database.
 *
 * <pre>java -jar continuum-hapi.jar --port 8090 --db var/hapi/db [--host 127.0.0.1]</pre>
 *
 * The FHIR base is http://HOST:PORT/fhir. No authentication: it is for tests and benchmarks on loopback.
 * "started" is printed once it serves requests (scripts/hapi.py waits for GET /fhir/metadata instead).
 */
public final class HapiServer {

	private HapiServer() {}

	public static void main(String[] args) throws Exception {
		int port = Integer.parseInt(System.getenv().getOrDefault("HAPI_PORT", "8090"));
		String db = System.getenv().getOrDefault("HAPI_DB_DIR", "var/hapi/db");
		String host = "127.0.0.1";
		for (int i = 0; i + 1 < args.length; i += 2) {
			switch (args[i]) {
				case "--port" -> port = Integer.parseInt(args[i + 1]);
				case "--db" -> db = args[i + 1];
				case "--host" -> host = args[i + 1];
				default -> throw new IllegalArgumentException("unknown option " + args[i]
						+ " (options: --port N, --db DIR, --host ADDRESS)");
			}
		}
		if (args.length % 2 != 0) {
			throw new IllegalArgumentException("options come in pairs: --port N --db DIR [--host ADDRESS]");
		}
		Path dbDir = Path.of(db).toAbsolutePath();
		Files.createDirectories(dbDir);
		System.setProperty(ServerConfig.DB_DIR_PROPERTY, dbDir.toString());

		long t0 = System.nanoTime();
		AnnotationConfigApplicationContext spring = new AnnotationConfigApplicationContext(ServerConfig.class);
		RestfulServer fhir = spring.getBean(RestfulServer.class);

		Server jetty = new Server();
		ServerConnector connector = new ServerConnector(jetty);
		connector.setHost(host);
		connector.setPort(port);
		jetty.addConnector(connector);
		ServletContextHandler context = new ServletContextHandler();
		context.setContextPath("/");
		ServletHolder holder = new ServletHolder(fhir);
		holder.setInitOrder(0); // initialise the RestfulServer (scan its providers) before the port answers
		context.addServlet(holder, "/fhir/*");
		jetty.setHandler(context);
		jetty.setStopAtShutdown(true); // SIGTERM: stop Jetty, then close Spring (H2 closes with its pool)
		Runtime.getRuntime().addShutdownHook(new Thread(spring::close));
		jetty.start();
		System.out.printf("started: http://%s:%d/fhir (H2 in %s) in %.1f s%n", host, port, dbDir,
				(System.nanoTime() - t0) / 1e9);
		jetty.join();
	}
}
