//! A query in the database's own SQL as a DataFusion table.

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::Result as DataFusionResult;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use datafusion_table_providers::sql::db_connection_pool::DbConnectionPool;

use crate::url::Engine;

/// A query in the database's own SQL, as a table: DataFusion's column list, filters and limit
/// wrap it as a derived table, so the database does the filtering.
pub struct QueryTable<T: 'static, P: 'static> {
    pool: Arc<dyn DbConnectionPool<T, P> + Send + Sync>,
    query: String,
    schema: SchemaRef,
    engine: Engine,
}

impl<T, P> std::fmt::Debug for QueryTable<T, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "QueryTable({})", self.query)
    }
}

impl<T: 'static, P: 'static> QueryTable<T, P> {
    /// Learn the query's columns from its first row.
    pub(crate) async fn new(
        pool: Arc<dyn DbConnectionPool<T, P> + Send + Sync>,
        query: &str,
        engine: Engine,
    ) -> std::result::Result<Self, String> {
        use datafusion_table_providers::sql::db_connection_pool::dbconnection::query_arrow;
        use futures::StreamExt;
        let probe = format!("SELECT * FROM ({query}) AS pathway_source LIMIT 1");
        let connection = pool.connect().await.map_err(|e| e.to_string())?;
        let mut stream = query_arrow(connection, probe, None)
            .await
            .map_err(|e| e.to_string())?;
        let schema = match stream.next().await {
            Some(Ok(batch)) => batch.schema(),
            Some(Err(e)) => return Err(e.strip_backtrace()),
            None => stream.schema(),
        };
        if schema.fields().is_empty() {
            return Err(
                "the query returned no rows, so its columns cannot be learned; \
                 make it a view and give `table = \"schema.view\"` instead"
                    .into(),
            );
        }
        Ok(QueryTable {
            pool,
            query: query.to_owned(),
            schema,
            engine,
        })
    }

    fn dialect(&self) -> Arc<dyn datafusion::sql::unparser::dialect::Dialect + Send + Sync> {
        match self.engine {
            Engine::Postgres => Arc::new(datafusion::sql::unparser::dialect::PostgreSqlDialect {}),
            Engine::Mysql => Arc::new(datafusion::sql::unparser::dialect::MySqlDialect {}),
        }
    }

    fn quote(&self, name: &str) -> String {
        match self.engine {
            Engine::Postgres => format!("\"{}\"", name.replace('"', "\"\"")),
            Engine::Mysql => format!("`{}`", name.replace('`', "``")),
        }
    }

    /// The SQL sent for a scan.
    fn scan_sql(
        &self,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DataFusionResult<String> {
        let columns = match projection {
            // DataFusion's `SELECT 1` for an empty projection (count(*)).
            Some(p) if p.is_empty() => match self.engine {
                Engine::Postgres => "CAST(1 AS BIGINT) AS \"1\"".to_owned(),
                Engine::Mysql => "CAST(1 AS SIGNED) AS `1`".to_owned(),
            },
            Some(p) => p
                .iter()
                .map(|i| self.quote(self.schema.field(*i).name()))
                .collect::<Vec<_>>()
                .join(", "),
            None => self
                .schema
                .fields()
                .iter()
                .map(|f| self.quote(f.name()))
                .collect::<Vec<_>>()
                .join(", "),
        };
        let dialect = self.dialect();
        let unparser = datafusion::sql::unparser::Unparser::new(dialect.as_ref());
        let conditions = filters
            .iter()
            .map(|f| unparser.expr_to_sql(f).map(|e| format!("({e})")))
            .collect::<DataFusionResult<Vec<_>>>()?;
        let mut sql = format!("SELECT {columns} FROM ({}) AS pathway_source", self.query);
        if !conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conditions.join(" AND "));
        }
        if let Some(limit) = limit {
            sql.push_str(&format!(" LIMIT {limit}"));
        }
        Ok(sql)
    }
}

#[async_trait::async_trait]
impl<T: 'static, P: 'static> TableProvider for QueryTable<T, P> {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DataFusionResult<Vec<TableProviderFilterPushDown>> {
        Ok(
            datafusion_table_providers::sql::sql_provider_datafusion::default_filter_pushdown(
                filters,
                self.dialect().as_ref(),
            ),
        )
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DataFusionResult<Arc<dyn ExecutionPlan>> {
        let sql = self.scan_sql(projection, filters, limit)?;
        tracing::debug!("query source: {sql}");
        let exec = datafusion_table_providers::sql::sql_provider_datafusion::SqlExec::new(
            projection,
            &self.schema,
            self.pool.clone(),
            sql,
            self.dialect(),
        )?;
        Ok(Arc::new(exec))
    }
}
