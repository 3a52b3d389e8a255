"""CSV files shared by the domains: reading them as text with physical line numbers (`text`)
and reading plain files column by column with Arrow (`columns`)."""
