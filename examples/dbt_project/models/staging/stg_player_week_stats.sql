-- Typed weekly stat lines, one row per raw player id and game.
select
    cast(gsis_id as varchar) as gsis_id,
    cast(season as integer) as season,
    cast(week as integer) as week,
    cast(season_type as varchar) as season_type,
    cast(position as varchar) as position,
    cast(team as varchar) as team,
    {%- for stat in var('stat_columns') %}
    cast({{ stat }} as double) as {{ stat }}{{ "," if not loop.last }}
    {%- endfor %}
from {{ ref('raw_player_week_stats') }}
