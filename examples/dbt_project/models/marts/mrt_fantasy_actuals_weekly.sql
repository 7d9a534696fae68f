-- One row per player and game with half-PPR + IDP fantasy points. The points come
-- from the dim_scoring_rule seed (current rules only), never from constants here.
with stats as (
    select * from {{ ref('stg_player_week_stats') }}
),

rules as (
    select stat_name, points_per_unit
    from {{ ref('dim_scoring_rule') }}
    where is_current
),

stat_values as (
    unpivot (
        select gsis_id, season, week, season_type,
            {{ var('stat_columns') | join(', ') }}
        from stats
    )
    on {{ var('stat_columns') | join(', ') }}
    into name stat_name value stat_value
),

points as (
    select
        stat_values.gsis_id,
        stat_values.season,
        stat_values.week,
        stat_values.season_type,
        sum(stat_values.stat_value * rules.points_per_unit) as fantasy_points
    from stat_values
    inner join rules on stat_values.stat_name = rules.stat_name
    group by all
)

select
    cast(coalesce(players.player_id, -1) as bigint) as player_id,
    cast(coalesce(cast(players.player_id as varchar), stats.gsis_id) as varchar) as player_key,
    stats.season,
    stats.week,
    stats.season_type,
    stats.position,
    {%- for stat in var('stat_columns') %}
    stats.{{ stat }},
    {%- endfor %}
    players.display_name,
    players.current_team,
    cast(1 as integer) as games_played,
    cast(coalesce(points.fantasy_points, 0) as double) as fantasy_points
from stats
left join {{ ref('stg_players') }} as players on stats.gsis_id = players.gsis_id
left join points
    on stats.gsis_id = points.gsis_id
    and stats.season = points.season
    and stats.week = points.week
    and stats.season_type = points.season_type
