-- The example flow's valuation, typed, with a tier from the positional rank.
select
    cast(player_id as bigint) as player_id,
    cast(player_key as varchar) as player_key,
    cast(display_name as varchar) as display_name,
    cast(position as varchar) as position,
    cast(season as integer) as season,
    cast(games_played as integer) as games_played,
    cast(total_points as double) as total_points,
    cast(points_per_game as double) as points_per_game,
    cast(positional_rank as integer) as positional_rank,
    cast(value_over_replacement as double) as value_over_replacement,
    case
        when positional_rank <= 5 then 'elite'
        when positional_rank <= 12 then 'starter'
        when value_over_replacement > 0 then 'depth'
        else 'replacement'
    end as value_tier
from {{ source('analytics', 'player_valuation') }}
