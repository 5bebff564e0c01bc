package health.continuum.hapi;

import ca.uhn.fhir.batch2.jobs.config.Batch2JobsConfig;
import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.IValidationSupport;
import ca.uhn.fhir.jpa.api.config.JpaStorageSettings;
import ca.uhn.fhir.jpa.api.config.ThreadPoolFactoryConfig;
import ca.uhn.fhir.jpa.api.dao.IFhirSystemDao;
import ca.uhn.fhir.jpa.batch2.JpaBatch2Config;
import ca.uhn.fhir.jpa.config.HapiJpaConfig;
import ca.uhn.fhir.jpa.config.JpaConfig;
import ca.uhn.fhir.jpa.config.r4.JpaR4Config;
import ca.uhn.fhir.jpa.config.util.HapiEntityManagerFactoryUtil;
import ca.uhn.fhir.jpa.model.config.PartitionSettings;
import ca.uhn.fhir.jpa.model.config.SubscriptionSettings;
import ca.uhn.fhir.jpa.model.dialect.HapiFhirH2Dialect;
import ca.uhn.fhir.jpa.provider.JpaCapabilityStatementProvider;
import ca.uhn.fhir.jpa.provider.JpaSystemProvider;
import ca.uhn.fhir.jpa.search.DatabaseBackedPagingProvider;
import ca.uhn.fhir.jpa.subscription.channel.config.SubscriptionChannelConfig;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.provider.ResourceProviderFactory;
import ca.uhn.fhir.rest.server.util.ISearchParamRegistry;
import jakarta.persistence.EntityManagerFactory;
import java.util.Properties;
import javax.sql.DataSource;
import org.apache.commons.dbcp2.BasicDataSource;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.Primary;
import org.springframework.orm.jpa.JpaTransactionManager;
import org.springframework.orm.jpa.LocalContainerEntityManagerFactoryBean;

/**
 * HAPI's own JPA configuration for R4 (DAOs, resource providers, search, transactions, $everything) plus the
 * few beans it expects its host to provide: the database, the entity manager, the transaction manager, the
 * storage settings, and the RestfulServer that puts the providers on HTTP. This is what hapi-fhir's
 * TestR4Config and hapi-fhir-jpaserver-starter's StarterJpaConfig do, less what we do not need (subscriptions,
 * bulk export, terminology upload, MDM, CQL, the web tester, full-text search).
 */
@Configuration
// JpaBatch2Config and Batch2JobsConfig: the job coordinator and job definitions the DAOs need (terminology,
// reindexing, delete-expunge), their work queues in memory (SubscriptionChannelConfig: in-process
// LinkedBlockingQueue channels, no message broker).
@Import({
	JpaR4Config.class,
	HapiJpaConfig.class,
	JpaBatch2Config.class,
	Batch2JobsConfig.class,
	SubscriptionChannelConfig.class,
	ThreadPoolFactoryConfig.class // the pool for a batch bundle's GET entries
})
public class ServerConfig {

	static final String DB_DIR_PROPERTY = "continuum.hapi.db";

	/** H2 in a file under the --db folder: the data outlives a restart of the server. */
	@Bean(destroyMethod = "close")
	public BasicDataSource dataSource() {
		BasicDataSource pool = new BasicDataSource();
		pool.setDriver(new org.h2.Driver());
		pool.setUrl("jdbc:h2:file:" + System.getProperty(DB_DIR_PROPERTY) + "/hapi;DB_CLOSE_ON_EXIT=FALSE");
		pool.setUsername("sa");
		pool.setPassword("");
		pool.setMaxTotal(20);
		return pool;
	}

	@Bean
	public JpaStorageSettings storageSettings() {
		JpaStorageSettings settings = new JpaStorageSettings();
		// Run every search: by default HAPI answers a repeated search from its results of the last 60 s, which
		// would make a benchmark's repeated queries measure that cache rather than the search.
		settings.setReuseCachedSearchResultsForMillis(null);
		// Everything else as HAPI ships it, its scheduled jobs (stale-search cleanup, batch maintenance) included.
		return settings;
	}

	@Bean
	public PartitionSettings partitionSettings() {
		return new PartitionSettings(); // not partitioned
	}

	@Bean
	public SubscriptionSettings subscriptionSettings() {
		return new SubscriptionSettings(); // no subscription channel types enabled
	}

	@Primary
	@Bean
	public LocalContainerEntityManagerFactoryBean entityManagerFactory(
			ConfigurableListableBeanFactory beanFactory,
			FhirContext fhirContext,
			JpaStorageSettings storageSettings,
			DataSource dataSource) {
		LocalContainerEntityManagerFactoryBean factory =
				HapiEntityManagerFactoryUtil.newEntityManagerFactory(beanFactory, fhirContext, storageSettings);
		factory.setPersistenceUnitName("HAPI_PU");
		factory.setDataSource(dataSource);
		Properties jpa = new Properties();
		jpa.put("hibernate.dialect", HapiFhirH2Dialect.class.getName());
		jpa.put("hibernate.hbm2ddl.auto", "update"); // create the schema on first start, as HAPI's tests do
		jpa.put("hibernate.search.enabled", "false"); // no Lucene or Elasticsearch full-text index
		jpa.put("hibernate.format_sql", "false");
		jpa.put("hibernate.show_sql", "false");
		factory.setJpaProperties(jpa);
		return factory;
	}

	@Primary
	@Bean
	public JpaTransactionManager transactionManager(EntityManagerFactory entityManagerFactory) {
		return new JpaTransactionManager(entityManagerFactory);
	}

	/** The FHIR endpoint: every R4 resource type's JPA provider, the system provider (transaction, batch,
	 * history) and a CapabilityStatement built from the search parameters. */
	@Bean
	public RestfulServer restfulServer(
			FhirContext fhirContext,
			ResourceProviderFactory resourceProviders,
			@Qualifier("mySystemProviderR4") JpaSystemProvider<?, ?> systemProvider,
			IFhirSystemDao<?, ?> systemDao,
			JpaStorageSettings storageSettings,
			ISearchParamRegistry searchParamRegistry,
			@Qualifier(JpaConfig.JPA_VALIDATION_SUPPORT_CHAIN) IValidationSupport validationSupport,
			DatabaseBackedPagingProvider pagingProvider) {
		RestfulServer server = new RestfulServer(fhirContext);
		server.registerProviders(resourceProviders.createProviders());
		server.registerProvider(systemProvider);
		server.setServerConformanceProvider(new JpaCapabilityStatementProvider(
				server, systemDao, storageSettings, searchParamRegistry, validationSupport));
		// Pages of search results kept in the database, as a production HAPI does: 20 a page unless _count
		// says otherwise (as Continuum), at most 200 (HAPI's own default is 50), so a client asking for more,
		// as fhir/remote.py's pull does (500), follows next links.
		pagingProvider.setDefaultPageSize(20);
		pagingProvider.setMaximumPageSize(200);
		server.setPagingProvider(pagingProvider);
		server.setDefaultResponseEncoding(EncodingEnum.JSON);
		return server;
	}
}
